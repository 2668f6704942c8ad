"""The Starlette application: routes, middleware and the lifespan that runs the workers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.contrib.starlette import RegisterTortoise

import mailers
from app.access_log import AccessLog
from app.db import tortoise_config
from app.gateway_webhooks import gateway_routes
from app.graphql import PortalGraphQL
from app.health import healthz, readyz
from app.invoices import invoice_routes
from app.jobs import (  # noqa: F401 (app.main's names of old)
    Jobs,
    mail_transport,
    message_id_domain,
    run_billing_scheduler,
    run_outbox_worker,
)
from app.logs import RequestId, use_json_logs
from app.metrics import HttpMetrics, OperationNames, metrics_endpoint
from app.portal import page_routes
from app.portal.core import content_security_policy
from app.portal.templating import PageTemplates
from app.settings import Settings, settings_from_env
from schema import build_schema
from services import payment_updates
from services.payments.stripe_gateway import close_clients as close_stripe_clients
from services.ratelimit import RateLimiter

logger = logging.getLogger("portal")

# Pages may name one more image origin (the merchant's logo) in their own header; without one
# they get this: everything from us, no inline script or style.
PAGE_CSP = content_security_policy()


class BodyLimit:
    """Refuses request bodies over the limit with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {
            "errors": [
                {"message": "Request body too large.", "extensions": {"code": "QUERY_TOO_COMPLEX"}}
            ]
        },
        status_code=413,
    )
    await response(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        # Production runs behind https only (Settings.check): browsers should never try http.
        self.extra = [(b"strict-transport-security", b"max-age=63072000; includeSubDomains")]
        if not hsts:
            self.extra = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_graphql = scope["path"].startswith("/graphql")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    *self.extra,
                ]
                if not is_graphql:
                    if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                        headers.append((b"content-security-policy", PAGE_CSP.encode()))
                    headers += [
                        (b"x-frame-options", b"DENY"),
                        (b"cache-control", b"no-store"),
                    ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class RequestTimeout:
    """Cuts off a request that runs longer than `seconds`: 503 when nothing was answered yet.
    A mutation cut off mid-way is safe to cut: each change is one transaction, and a charge
    interrupted between the gateway and its record is settled later (services/billing)."""

    def __init__(self, app: ASGIApp, seconds: float | None) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds is None:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        timeout = asyncio.timeout(self.seconds)
        try:
            async with timeout:
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if not timeout.expired():
                raise
            logger.warning("request cut off after %.1f s", self.seconds)
            if started:
                return
            await _timed_out(scope, receive, send)


async def _timed_out(scope: Scope, receive: Receive, send: Send) -> None:
    message = "The request took too long and was stopped."
    response: Response
    if scope["path"].startswith("/graphql"):
        response = JSONResponse(
            {"errors": [{"message": message, "extensions": {"code": "REQUEST_TIMEOUT"}}]},
            status_code=503,
        )
    else:
        response = PlainTextResponse(message, status_code=503)
    await response(scope, receive, send)


def create_app(settings: Settings, *, manage_orm: bool = True) -> Starlette:
    """`manage_orm=False` leaves the database and the workers to the caller (tests)."""
    schema = build_schema(introspection=not settings.production, observers=[OperationNames])
    mailers.use_templates_dir(settings.templates_dir)
    limiter = RateLimiter(settings.redis_url)
    graphql_app = PortalGraphQL(schema, settings, limiter)
    # How paymentUpdated hears of changes made by other processes (Redis, PostgreSQL or none).
    payment_updates.configure(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_orm:
            try:
                yield
            finally:
                await payment_updates.close()
            return
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            # What start-up loaded (schema, babel data, models) lives as long as the process:
            # keep it out of full GC passes, which otherwise add tens of ms to slow requests.
            gc.collect()
            gc.freeze()
            jobs = Jobs(settings)
            if settings.run_workers:
                jobs.start()
            try:
                yield
            finally:
                # Requests have finished (uvicorn waits for them); jobs get the grace period.
                await jobs.stop()
                await close_stripe_clients()
                await payment_updates.close()

    routes = [
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        # Subscriptions (the `Live` root) over graphql-transport-ws, on the same path.
        WebSocketRoute("/graphql", graphql_app),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
        *page_routes(),
        *invoice_routes(),
        *gateway_routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(RequestId),
            Middleware(HttpMetrics),
            Middleware(AccessLog),
            Middleware(SecurityHeaders, hsts=settings.production),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
            Middleware(RequestTimeout, seconds=settings.request_timeout_seconds),
        ],
    )
    app.state.settings = settings
    app.state.schema = schema
    app.state.limiter = limiter
    app.state.templates = PageTemplates(settings.templates_dir)
    return app


def app_from_env() -> Starlette:
    """For `uvicorn app.main:app_from_env --factory` (each process of `portal serve --workers
    N`, started afresh: its logs are set up here, as `portal` sets up its own)."""
    use_json_logs(logging.INFO)
    return create_app(settings_from_env())
