"""Logs as JSON lines, each with the id of the request it belongs to.

The request id is the caller's `X-Request-ID` when it is sane (1 to 64 characters of letters,
digits and `-_.:`), else one we make; the response carries it back in `X-Request-ID`, so a
client's report and our log lines meet. Nothing secret is logged: the access log redacts
tokens and signatures (app/access_log.py), and no header or body is ever written."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_SANE_ID = re.compile(r"[A-Za-z0-9\-_.:]{1,64}")
REQUEST_ID_HEADER = b"x-request-id"

# What a LogRecord carries on its own; everything else on it was passed as `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's coloured copy of the message
}


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER:
            given = value.decode("latin-1").strip()
            if _SANE_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class RequestId:
    """Outermost: every log line written while a request runs carries its id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        reset = current_request_id.set(request_id)

        async def with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != REQUEST_ID_HEADER
                ]
                message["headers"] = [*headers, (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, with_request_id)
        finally:
            current_request_id.reset(reset)


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (when in a request),
    the fields passed as `extra=`, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def use_json_logs(level: int = logging.INFO) -> None:
    """The root logger writes JSON lines to stderr; uvicorn's loggers pass theirs up to it."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request's URL at INFO; a webhook URL may carry the receiver's token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
