"""The `/graphql` endpoint: Strawberry's ASGI app with our context."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import orjson
from cross_web import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from app.auth import client_ip, principal_of_token, resolve_caller, resolve_principal
from app.graphiql import graphiql_page
from app.metrics import GraphQLObservation, current_observation
from app.persisted import NOT_TRUSTED, PersistedDocuments
from app.settings import Settings
from resolvers.context import Context
from schema.extensions import is_token_limit
from schema.messages import safe_message
from services.access.principal import PrincipalKind
from services.ratelimit import RateLimiter


async def build_context(
    settings: Settings,
    limiter: RateLimiter,
    conn: HTTPConnection,
    response: Any,
    *,
    allow_cookie: bool,
    defer_session_row: bool = False,
) -> Context:
    """`defer_session_row`: a portal session's row is read when the operation runs (with the
    data, by a compiled query; else first: schema/extensions.py, ConfirmSession)."""
    unconfirmed = None
    if defer_session_row:
        principal, unconfirmed = await resolve_caller(settings, conn, allow_cookie=allow_cookie)
    else:
        principal = await resolve_principal(settings, conn, allow_cookie=allow_cookie)
    return Context(
        request=conn,
        response=response,
        settings=settings,
        principal=principal,
        limiter=limiter,
        client_ip=client_ip(settings, conn),
        unconfirmed=unconfirmed,
    )


class PortalGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, settings: Settings, limiter: RateLimiter) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
            # The current protocol only: the older subscriptions-transport-ws ("graphql-ws")
            # is deprecated by its own authors, and only this one is tested here.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings
        self.limiter = limiter
        self.persisted = PersistedDocuments(trusted_only=settings.trusted_documents)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        refused, request = await self.with_document(request)
        if refused is not None:
            await refused(scope, receive, send)
            return
        observation = GraphQLObservation()
        reset = current_observation.set(observation)
        started = time.perf_counter()
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = PlainTextResponse(error.reason, status_code=error.status_code)
        finally:
            current_observation.reset(reset)
        if observation.answered:
            observation.record(time.perf_counter() - started)
        if _wants_graphql_response_json(request) and response.media_type == "application/json":
            response = _as_graphql_response_json(response)
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page()

    async def with_document(self, request: Request) -> tuple[Response | None, Request]:
        """Persisted documents (app/persisted.py): the request with its document filled in, or
        the answer that refuses it."""
        trusted_only = self.persisted.trusted_only
        if request.method == "GET":
            params = dict(request.query_params)
            if "extensions" not in params and not (trusted_only and "query" in params):
                return None, request
            refusal = await self.persisted.fill_in(params)
            if refusal is None:
                scope = dict(request.scope, query_string=urlencode(params).encode())
                return None, Request(scope=scope, receive=request.receive)
        elif request.method == "POST":
            # Strawberry takes any content type that contains application/json.
            if "application/json" not in request.headers.get("content-type", "").lower():
                if not trusted_only:
                    return None, request  # not a GraphQL request Strawberry runs
                refusal = NOT_TRUSTED
            else:
                body = await request.body()
                if not trusted_only and b"persistedQuery" not in body:
                    return None, Request(scope=request.scope, receive=_replay(body))
                try:
                    data = json.loads(body)
                except ValueError:
                    data = None
                if isinstance(data, dict):
                    refusal = await self.persisted.fill_in(data)
                    if refusal is None:
                        body = orjson.dumps(data)
                        return None, Request(scope=request.scope, receive=_replay(body))
                elif not trusted_only:  # not one GraphQL request: Strawberry answers it
                    return None, Request(scope=request.scope, receive=_replay(body))
                else:  # a batch or no JSON at all: nothing unchecked runs
                    refusal = NOT_TRUSTED
        else:
            return None, request
        response: Response = JSONResponse(refusal.body())
        if _wants_graphql_response_json(request):
            response = _as_graphql_response_json(response)
        return response, request

    def encode_json(self, data: object) -> bytes:
        # orjson: a dashboard answer is ~100 kB of JSON, which the standard library takes ~1 ms
        # to write and orjson a tenth of that; both write the same data (UTF-8, not \u-escaped).
        return orjson.dumps(data)

    async def process_result(self, request: Any, result: Any) -> Any:
        """Errors raised before execution (the parser's token limit, syntax errors) never pass
        through the schema's extensions; give them their code here."""
        data: dict[str, Any] = dict(await super().process_result(request, result))
        for error in data.get("errors") or []:
            error["message"] = safe_message(
                error.get("message", ""), suggestions=not self.settings.production
            )
            extensions = error.setdefault("extensions", {})
            if "code" not in extensions:
                too_complex = is_token_limit(error.get("message", ""))
                extensions["code"] = "QUERY_TOO_COMPLEX" if too_complex else "BAD_USER_INPUT"
        observation = current_observation.get()
        if observation is not None:
            observation.read_result(data)
        return data

    async def get_context(self, request: Any, response: Any) -> Context:
        # The cookie counts only where a cross-site form cannot send it with a request body a
        # browser would let through: GET queries and JSON POSTs (which need a CORS preflight),
        # and websockets, whose upgrade Strawberry refuses from another origin than our own.
        allow_cookie = isinstance(request, WebSocket) or (
            isinstance(request, Request)
            and (
                request.method == "GET"
                or request.headers.get("content-type", "").startswith("application/json")
            )
        )
        return await build_context(
            self.settings,
            self.limiter,
            request,
            response,
            allow_cookie=allow_cookie,
            # Websockets check their credentials at connect (on_ws_connect): read at once.
            defer_session_row=isinstance(request, Request),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws's connection_init: a credential in its payload,
        `{"authorization": "Bearer <API key or session token>"}`, takes the place of the upgrade
        request's (its Authorization header, or the portal_session cookie). A credential that
        is not valid closes the socket (4403); none at all leaves the connection anonymous, and
        each subscription then answers UNAUTHENTICATED."""
        params = context.connection_params or {}
        given = params.get("authorization", params.get("Authorization"))
        if given is not None:
            scheme, _, token = str(given).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
            context.principal = await principal_of_token(self.settings, token.strip())
        if context.principal.kind == PrincipalKind.INVALID:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return await super().on_ws_connect(context)


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def _replay(body: bytes) -> Receive:
    """A receive channel that gives `body` once (the request's body, read already)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _wants_graphql_response_json(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


def _as_graphql_response_json(response: Response) -> Response:
    """GraphQL over HTTP, for clients that accept application/graphql-response+json: a request
    that never reached execution (parse, validation or variable errors) is a 400 without `data`.
    Execution errors carry a `path` and keep status 200."""
    status = response.status_code
    body = bytes(response.body)
    try:
        result = json.loads(body)
    except ValueError:
        return response
    errors = result.get("errors") if isinstance(result, dict) else None
    never_executed = errors and all("path" not in error for error in errors)
    if status == 200 and never_executed and result.get("data") is None:
        status = 400
        result.pop("data", None)
        body = json.dumps(result).encode()
    headers = {
        key: value
        for key, value in response.headers.items()
        if key.lower() not in {"content-length", "content-type"}
    }
    return Response(body, status_code=status, headers=headers, media_type=GRAPHQL_RESPONSE_JSON)
