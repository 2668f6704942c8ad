"""The `/graphql` endpoint: Strawberry's ASGI app with our context."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection, Request
from strawberry.asgi import GraphQL

from app.auth import client_ip, resolve_principal
from app.settings import Settings
from resolvers.context import Context
from services.ratelimit import RateLimiter


async def build_context(
    settings: Settings,
    limiter: RateLimiter,
    conn: HTTPConnection,
    response: Any,
    *,
    allow_cookie: bool,
) -> Context:
    principal = await resolve_principal(settings, conn, allow_cookie=allow_cookie)
    return Context(
        request=conn,
        response=response,
        settings=settings,
        principal=principal,
        limiter=limiter,
        client_ip=client_ip(settings, conn),
    )


class PortalGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, settings: Settings, limiter: RateLimiter) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.limiter = limiter

    async def get_context(self, request: Any, response: Any) -> Context:
        # The cookie counts only where a cross-site form cannot send it with a request body a
        # browser would let through: GET queries and JSON POSTs (which need a CORS preflight).
        allow_cookie = isinstance(request, Request) and (
            request.method == "GET"
            or request.headers.get("content-type", "").startswith("application/json")
        )
        return await build_context(
            self.settings, self.limiter, request, response, allow_cookie=allow_cookie
        )
