"""The event types an endpoint can subscribe to: Dodo Payments' names."""

from __future__ import annotations

from services.errors import ServiceError

EVENT_TYPES: tuple[str, ...] = (
    "payment.succeeded",
    "payment.failed",
    "payment.processing",
    "payment.cancelled",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.expired",
    "dispute.accepted",
    "dispute.cancelled",
    "dispute.challenged",
    "dispute.won",
    "dispute.lost",
    "subscription.active",
    "subscription.renewed",
    "subscription.on_hold",
    "subscription.paused",
    "subscription.resumed",
    "subscription.plan_changed",
    # Ours, beside Dodo's: a downgrade scheduled for the period end, taken back, and an
    # upgrade whose charge failed (nothing changed).
    "subscription.plan_change_scheduled",
    "subscription.plan_change_cancelled",
    "subscription.plan_change_failed",
    "subscription.cancelled",
    "subscription.failed",
    "subscription.expired",
    "subscription.updated",
    "license_key.created",
    "license_key.rotated",
    "customer.created",
    "customer.updated",
    "payment_method.added",
    "payment_method.removed",
    "portal_settings.updated",
)

_KNOWN = frozenset(EVENT_TYPES)


def clean_event_types(values: list[str] | None) -> list[str] | None:
    """None stays None (every event); otherwise known names, deduplicated, in input order."""
    if values is None:
        return None
    cleaned: list[str] = []
    for index, value in enumerate(values):
        name = value.strip()
        if name not in _KNOWN:
            raise ServiceError(
                f"Unknown event type {name!r}. Known types: {', '.join(EVENT_TYPES)}.",
                code="INVALID_EVENT_TYPE",
                field=["eventTypes", str(index)],
            )
        if name not in cleaned:
            cleaned.append(name)
    if not cleaned:
        raise ServiceError(
            "Give at least one event type, or leave eventTypes out for every event.",
            code="INVALID_EVENT_TYPE",
            field=["eventTypes"],
        )
    return cleaned


def wants(event_types: list[str] | None, event_type: str) -> bool:
    return event_types is None or event_type in event_types
