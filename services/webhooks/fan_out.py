"""Fan-out: each recorded event (an outbox row of kind WEBHOOK, written in the transaction of
the change) becomes one delivery per endpoint that wants it. The one transaction that flips the
outbox row from PENDING makes the deliveries, so an event is fanned out once however many
workers run."""

from __future__ import annotations

import logging

from tortoise.transactions import in_transaction

from models import OutboxKind, OutboxMessage, OutboxStatus
from models.clock import now
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from services.webhooks.event_types import wants

logger = logging.getLogger("portal.webhooks")

FAN_OUT_BATCH = 100


async def fan_out_events(limit: int = FAN_OUT_BATCH) -> int:
    """Turns recorded events into one delivery per endpoint that existed when the event
    happened, is enabled, and wants its type. Returns how many deliveries it made."""
    return (await fan_out(limit))[1]


async def fan_out(limit: int) -> tuple[int, int]:
    """(outbox rows looked at, deliveries made)."""
    # Every pending row is due: fanning out is local work that does not wait for a retry, and
    # does not trust next_attempt_at, which the recording clock may have set in the future.
    pending = (
        await OutboxMessage.filter(kind=OutboxKind.WEBHOOK, status=OutboxStatus.PENDING)
        .order_by("created_at", "id")
        .limit(limit)
    )
    created = 0
    for message in pending:
        at = now()
        async with in_transaction():
            won = await OutboxMessage.filter(id=message.id, status=OutboxStatus.PENDING).update(
                status=OutboxStatus.SENT, sent_at=at, attempts=message.attempts + 1
            )
            if not won:
                continue  # another worker fanned it out
            event = await WebhookEvent.get_or_none(id=message.payload)
            if event is None:
                logger.error("outbox %s names a missing event %s", message.id, message.payload)
                continue
            endpoints = await WebhookEndpoint.filter(
                business_id=event.business_id,
                mode=event.mode,
                disabled_at__isnull=True,
                created_at__lte=event.created_at,
            )
            rows = [
                WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=at)
                for endpoint in endpoints
                if wants(endpoint.event_types, event.type)
            ]
            if rows:
                await WebhookDelivery.bulk_create(rows)
            created += len(rows)
    return len(pending), created
