"""What the merchant sees of past events: the events, each delivery and attempt, and
redelivery of an event on demand."""

from __future__ import annotations

from collections import defaultdict

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from models.clock import now
from models.ids import well_formed
from models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from services.errors import InvalidState, NotFound
from services.pagination import OrmPageQuery, Page, keyset_page
from services.scope import Scope
from services.sql import Row
from services.webhooks.delivery import notify_delivery_worker
from services.webhooks.endpoints import get_endpoint
from services.webhooks.event_types import wants


def _merchant(scope: Scope) -> Scope:
    if scope.customer_id is not None:
        raise NotFound("event", field=["eventId"])
    return scope


async def get_event(scope: Scope, event_id: str, field: list[str] | None = None) -> WebhookEvent:
    scope = _merchant(scope)
    row = (
        await WebhookEvent.get_or_none(id=event_id, business_id=scope.business_id, mode=scope.mode)
        if well_formed(event_id, "evt")
        else None
    )
    if row is None:
        raise NotFound("event", field=field or ["eventId"])
    return row


async def list_events(
    scope: Scope,
    first: int | None,
    after: str | None,
    *,
    endpoint_id: str | None = None,
    event_types: list[str] | None = None,
) -> Page[Row]:
    """Newest first; only those sent to one endpoint, or only some types, when asked."""
    scope = _merchant(scope)
    query = WebhookEvent.filter(business_id=scope.business_id, mode=scope.mode)
    if endpoint_id is not None:
        endpoint = await get_endpoint(scope, endpoint_id, field=["endpointId"])
        sent_there = WebhookDelivery.filter(endpoint_id=endpoint.id).values("event_id")
        query = query.filter(id__in=Subquery(sent_there))
    if event_types is not None:
        query = query.filter(type__in=[name.strip() for name in event_types])
    return await keyset_page(OrmPageQuery(query, EVENT_COLUMNS), first, after)


EVENT_COLUMNS = ("id", "type", "payload", "created_at")
ATTEMPT_COLUMNS = (
    "id",
    "attempt",
    "succeeded",
    "response_status",
    "duration_ms",
    "error",
    "created_at",
    "endpoint_id",
)


async def list_attempts(
    scope: Scope,
    event_id: str,
    first: int | None,
    after: str | None,
    *,
    endpoint_id: str | None = None,
) -> Page[Row]:
    """An event's attempts, newest first (optionally to one endpoint)."""
    scope = _merchant(scope)
    query = WebhookAttempt.filter(
        event_id=event_id, event__business_id=scope.business_id, event__mode=scope.mode
    )
    if endpoint_id is not None:
        query = query.filter(endpoint_id=endpoint_id)
    return await keyset_page(OrmPageQuery(query, ATTEMPT_COLUMNS), first, after)


async def deliveries_of(scope: Scope, event_ids: list[str]) -> dict[str, list[WebhookDelivery]]:
    """Each event's deliveries, newest first, in one query (for a DataLoader)."""
    scope = _merchant(scope)
    rows = await WebhookDelivery.filter(
        event_id__in=event_ids, event__business_id=scope.business_id, event__mode=scope.mode
    ).order_by("-created_at", "-id")
    grouped: dict[str, list[WebhookDelivery]] = defaultdict(list)
    for row in rows:
        grouped[row.event_id].append(row)
    return grouped


async def endpoints_by_id(scope: Scope, ids: list[str]) -> dict[str, WebhookEndpoint]:
    scope = _merchant(scope)
    rows = await WebhookEndpoint.filter(id__in=ids, business_id=scope.business_id, mode=scope.mode)
    return {row.id: row for row in rows}


async def redeliver_event(
    scope: Scope, event_id: str, endpoint_id: str | None = None
) -> tuple[WebhookEvent, list[WebhookDelivery]]:
    """Schedules a fresh delivery now: to one endpoint, or to every enabled endpoint that wants
    the event's type. A delivery still waiting for a retry is brought forward instead."""
    event = await get_event(scope, event_id)
    if endpoint_id is not None:
        endpoint = await get_endpoint(scope, endpoint_id)
        if endpoint.disabled_at is not None:
            raise InvalidState(
                "This endpoint is disabled; enable it first.", field=["webhookEndpointId"]
            )
        endpoints = [endpoint]
    else:
        candidates = await WebhookEndpoint.filter(
            business_id=scope.business_id, mode=scope.mode, disabled_at__isnull=True
        ).order_by("created_at", "id")
        endpoints = [e for e in candidates if wants(e.event_types, event.type)]
        if not endpoints:
            raise InvalidState(f"No enabled endpoint receives {event.type} events.")
    at = now()
    scheduled: list[WebhookDelivery] = []
    async with in_transaction():
        for endpoint in endpoints:
            waiting = WebhookDelivery.filter(
                event_id=event.id, endpoint_id=endpoint.id, status=WebhookDeliveryStatus.PENDING
            )
            if await waiting.update(next_attempt_at=at):
                scheduled.extend(await waiting)
                continue
            scheduled.append(
                await WebhookDelivery.create(
                    event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=at
                )
            )
    notify_delivery_worker()
    return event, scheduled
