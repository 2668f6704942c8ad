"""`/metrics` in Prometheus' text format (prometheus-client).

What a process counts itself: HTTP requests by route, method and status with their latency;
GraphQL operations by name, type and outcome with their latency; the codes of GraphQL errors
and of mutations' userErrors. What a scrape reads from the database (services/queue_stats.py):
job queue depth and age per kind, webhook deliveries and payments by status.

Not public: without PORTAL_METRICS_TOKEN the route answers 404, with it a scrape must carry
`Authorization: Bearer <token>`. Several worker processes: set PROMETHEUS_MULTIPROC_DIR and
every process writes its counters there, any process's scrape adds them all up (README)."""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope
from strawberry.extensions import SchemaExtension

from app.access_log import FinishedRequests
from services.queue_stats import OperationalStats, operational_stats

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# This process's own metrics. In multiprocess mode the values live in files under
# PROMETHEUS_MULTIPROC_DIR instead, and a scrape reads them through a MultiProcessCollector.
REGISTRY = CollectorRegistry(auto_describe=True)
if not MULTIPROCESS:
    ProcessCollector(registry=REGISTRY)
    PlatformCollector(registry=REGISTRY)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

HTTP_REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from a request's arrival to its last response byte, by route template.",
    ["route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
GRAPHQL_LATENCY = Histogram(
    "portal_graphql_request_duration_seconds",
    "GraphQL operations over /graphql by operation name, type and outcome "
    "(ok, user_error, error); its _count is the number of requests.",
    ["operation", "type", "outcome"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
GRAPHQL_ERRORS = Counter(
    "portal_graphql_errors",
    "Errors in GraphQL responses by extensions.code.",
    ["code"],
    registry=REGISTRY,
)
GRAPHQL_USER_ERRORS = Counter(
    "portal_graphql_user_errors",
    "userErrors in mutation payloads, by operation name and code.",
    ["operation", "code"],
    registry=REGISTRY,
)

# Operation names are the client's words: only well-formed names become labels, and only so
# many distinct ones per process, so no client can grow the series without end.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
MAX_OPERATION_NAMES = 200
_seen_names: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.fullmatch(name):
        return "invalid"
    if name not in _seen_names:
        if len(_seen_names) >= MAX_OPERATION_NAMES:
            return "other"
        _seen_names.add(name)
    return name


@dataclass
class GraphQLObservation:
    """One /graphql request as the metrics see it, filled in while it runs."""

    operation: str | None = None
    type: str = "unknown"
    outcome: str = "ok"
    error_codes: list[str] = field(default_factory=list)
    user_error_codes: list[str] = field(default_factory=list)
    answered: bool = False  # a GraphQL result was made (not the GraphiQL page, not a 4xx)

    def record(self, seconds: float) -> None:
        operation = operation_label(self.operation)
        GRAPHQL_LATENCY.labels(operation, self.type, self.outcome).observe(seconds)
        for code in self.error_codes:
            GRAPHQL_ERRORS.labels(code).inc()
        for code in self.user_error_codes:
            GRAPHQL_USER_ERRORS.labels(operation, code).inc()

    def read_result(self, data: dict[str, Any]) -> None:
        """The response as sent: top-level errors, and userErrors of the root fields."""
        self.answered = True
        errors = data.get("errors") or []
        self.error_codes = [
            str((error.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR"))
            for error in errors
        ]
        result = data.get("data")
        if isinstance(result, dict):
            for payload in result.values():
                if isinstance(payload, dict) and isinstance(payload.get("userErrors"), list):
                    self.user_error_codes += [
                        str(error.get("code")) for error in payload["userErrors"] if error
                    ]
        if self.error_codes:
            self.outcome = "error"
        elif self.user_error_codes:
            self.outcome = "user_error"


current_observation: ContextVar[GraphQLObservation | None] = ContextVar(
    "graphql_observation", default=None
)


class OperationNames(SchemaExtension):
    """Hands the operation's name and type (which Strawberry knows once the document is
    parsed) to the request's observation; operations run by the pages have none."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        observation = current_observation.get()
        if observation is None:
            return
        context = self.execution_context
        observation.operation = context.operation_name
        if context.graphql_document is not None:
            try:
                observation.type = context.operation_type.value
            except Exception:  # no such operation in the document
                observation.type = "unknown"


class HttpMetrics(FinishedRequests):
    """Counts every HTTP request by the route that answered it (its template, so ids and
    tokens in paths never become labels) and times it."""

    def finished(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        HTTP_REQUESTS.labels(template, scope["method"], str(status)).inc()
        HTTP_LATENCY.labels(template).observe(seconds)


class _DatabaseCollector(Collector):
    def __init__(self, stats: OperationalStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "portal_queue_depth",
            "Jobs waiting for their first or next attempt, by queue and kind.",
            labels=["queue", "kind"],
        )
        age = GaugeMetricFamily(
            "portal_queue_oldest_age_seconds",
            "Age of the oldest waiting job, by queue and kind (0 when none waits).",
            labels=["queue", "kind"],
        )
        for queue in self.stats.queues:
            depth.add_metric([queue.queue, queue.kind], queue.depth)
            age.add_metric([queue.queue, queue.kind], queue.oldest_age_seconds)
        dead = GaugeMetricFamily(
            "portal_outbox_dead",
            "Outbox messages given up on after their last retry, by kind.",
            labels=["kind"],
        )
        for kind, count in self.stats.outbox_dead.items():
            dead.add_metric([kind], count)
        deliveries = GaugeMetricFamily(
            "portal_webhook_deliveries",
            "Webhook deliveries by status (failed: every attempt failed) and mode.",
            labels=["status", "mode"],
        )
        for row in self.stats.webhook_deliveries:
            deliveries.add_metric([row.status, row.mode], row.count)
        failing = GaugeMetricFamily(
            "portal_webhook_endpoints_failing",
            "Enabled webhook endpoints whose last attempt failed (since their last success).",
            labels=["mode"],
        )
        for mode, count in self.stats.webhook_endpoints_failing.items():
            failing.add_metric([mode], count)
        payments = GaugeMetricFamily(
            "portal_payments", "Payments by status and mode.", labels=["status", "mode"]
        )
        for row in self.stats.payments:
            payments.add_metric([row.status, row.mode], row.count)
        yield from (depth, age, dead, deliveries, failing, payments)


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def metrics_endpoint(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    if not _authorized(request, token):
        return PlainTextResponse(
            "Unauthorized", status_code=401, headers={"www-authenticate": "Bearer"}
        )
    scrape = CollectorRegistry()
    scrape.register(_DatabaseCollector(await operational_stats()))
    if MULTIPROCESS:
        multiprocess.MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]
        body = generate_latest(scrape)
    else:
        body = generate_latest(REGISTRY) + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
