"""The access log, written by us instead of uvicorn's: a request's path can hold a secret (the
token of a sign-in link, the signature of a PDF link), which must never reach a log."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("portal.access")

# Path segments that follow these are tokens.
_TOKEN_PATH = re.compile(r"(/(?:session|confirm-email)/)[^/?#]+")
# Query parameters that are secrets or parts of a signature.
SECRET_PARAMETERS = frozenset({"signature", "token", "key", "secret"})
# A GraphQL request over GET carries its document and variables in the query string, and either
# can hold a credential (a license key, a token as a literal): only operationName is kept.
GRAPHQL_PARAMETERS = frozenset({"query", "variables", "extensions"})
REDACTED = "[redacted]"


MAX_TARGET = 300


def loggable_target(path: str, query_string: bytes | str = b"") -> str:
    """The request target with every token and signature replaced by [redacted], and cut
    short: a path of thousands of characters is the client's input, not a record."""
    target = _TOKEN_PATH.sub(rf"\1{REDACTED}", path)
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    if query_string:
        secret = SECRET_PARAMETERS | (GRAPHQL_PARAMETERS if path == "/graphql" else frozenset())
        pairs = [
            (name, REDACTED if name.lower() in secret else value)
            for name, value in parse_qsl(query_string, keep_blank_values=True)
        ]
        target = f"{target}?{urlencode(pairs, safe='[]')}"
    if len(target) > MAX_TARGET:
        target = target[: MAX_TARGET - 1] + "…"
    return target


class FinishedRequests:
    """ASGI middleware that hands every HTTP request, once answered (or failed: status 500), to
    `finished` with its status and duration; the access log and the HTTP metrics are two."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.finished(scope, status, time.perf_counter() - started)

    def finished(self, scope: Scope, status: int, seconds: float) -> None:
        raise NotImplementedError


class AccessLog(FinishedRequests):
    """One line per HTTP request: client, method, target (redacted), status, duration."""

    def finished(self, scope: Scope, status: int, seconds: float) -> None:
        client = scope.get("client")
        address = client[0] if client else "-"
        target = loggable_target(scope["path"], scope.get("query_string", b""))
        duration_ms = round(seconds * 1000, 1)
        logger.info(
            '%s "%s %s" %d %.1fms',
            address,
            scope["method"],
            target,
            status,
            duration_ms,
            # The same, as fields of the JSON line (app/logs.py): the redacted target only.
            extra={
                "client": address,
                "method": scope["method"],
                "target": target,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
