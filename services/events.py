"""Webhook events (Dodo's payload shape), written to the outbox in the transaction of the
change. Their delivery to merchants' endpoints is the webhook sender's job."""

from __future__ import annotations

from typing import Any

from models import Mode, OutboxKind, OutboxMessage, WebhookEvent
from services.clock import now


async def record_event(
    business_id: str, mode: Mode, event_type: str, data: dict[str, Any]
) -> WebhookEvent:
    """Call inside the transaction of the change the event reports."""
    at = now()
    event = await WebhookEvent.create(
        business_id=business_id,
        mode=mode,
        type=event_type,
        payload={
            "business_id": business_id,
            "type": event_type,
            "timestamp": at.isoformat(),
            "data": data,
        },
        created_at=at,
    )
    await OutboxMessage.create(
        kind=OutboxKind.WEBHOOK,
        topic=event_type,
        business_id=business_id,
        mode=mode.value,
        payload=event.id,
        next_attempt_at=at,
    )
    return event
