"""Webhook events (Dodo's payload shape), written to the outbox in the transaction of the
change. Their delivery to merchants' endpoints is the webhook sender's job."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models import (
    Customer,
    Invoice,
    Mode,
    OutboxKind,
    OutboxMessage,
    Payment,
    PaymentMethod,
    PlanChange,
    Refund,
    Subscription,
    WebhookEvent,
)
from models.clock import now

_last_timestamp: datetime | None = None


def _event_time() -> datetime:
    """Strictly increasing within the process, so that events recorded in one transaction
    (payment.succeeded, then subscription.active) keep their order even under a frozen clock."""
    global _last_timestamp
    at = now()
    # Only a tie (or a step back of less than a second) is nudged forward; a clock that was
    # moved back further is taken as it is.
    last = _last_timestamp
    if last is not None and last - timedelta(seconds=1) < at <= last:
        at = last + timedelta(microseconds=1)
    _last_timestamp = at
    return at


async def record_event(
    business_id: str, mode: Mode, event_type: str, data: dict[str, Any]
) -> WebhookEvent:
    """Call inside the transaction of the change the event reports."""
    at = _event_time()
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
        created_at=at,
    )
    return event


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def subscription_data(row: Subscription) -> dict[str, Any]:
    return {
        "subscription_id": row.id,
        "customer_id": row.customer_id,
        "product_id": row.product_id,
        "payment_method_id": row.payment_method_id,
        "status": row.status.value,
        "recurring_pre_tax_amount": row.price_amount,
        "currency": row.currency,
        "payment_frequency_interval": row.interval.value,
        "payment_frequency_count": row.interval_count,
        "previous_billing_date": _iso(row.current_period_start),
        "next_billing_date": _iso(row.next_billing_date),
        "cancel_at_next_billing_date": row.cancel_at_next_billing_date,
        "cancelled_at": _iso(row.cancelled_at),
        "cancellation_reason": row.cancellation_reason,
        "paused_at": _iso(row.paused_at),
        "pause_at_next_billing_date": row.pause_at_next_billing_date,
        "resume_at": _iso(row.resume_at),
        "created_at": _iso(row.created_at),
    }


def payment_data(row: Payment) -> dict[str, Any]:
    return {
        "payment_id": row.id,
        "customer_id": row.customer_id,
        "subscription_id": row.subscription_id,
        "invoice_id": row.invoice_id,
        "status": row.status.value,
        "total_amount": row.amount,
        "currency": row.currency,
        "card_network": row.card_brand,
        "card_last_four": row.card_last4,
        "error_code": row.failure_code,
        "error_message": row.failure_message,
        "created_at": _iso(row.created_at),
    }


def customer_data(row: Customer) -> dict[str, Any]:
    return {
        "customer_id": row.id,
        "email": row.email,
        "name": row.name,
        "phone_number": row.phone_number,
        "created_at": _iso(row.created_at),
    }


def payment_method_data(row: PaymentMethod) -> dict[str, Any]:
    return {
        "payment_method_id": row.id,
        "customer_id": row.customer_id,
        "card_network": row.brand,
        "card_last_four": row.last4,
        "expiry_month": row.exp_month,
        "expiry_year": row.exp_year,
    }


async def subscription_event(event_type: str, row: Subscription) -> None:
    await record_event(row.business_id, row.mode, event_type, subscription_data(row))


async def payment_event(row: Payment) -> None:
    event_type = "payment.succeeded" if row.status.value == "succeeded" else "payment.failed"
    await record_event(row.business_id, row.mode, event_type, payment_data(row))


async def customer_event(event_type: str, row: Customer) -> None:
    await record_event(row.business_id, row.mode, event_type, customer_data(row))


async def payment_method_event(event_type: str, row: PaymentMethod) -> None:
    await record_event(row.business_id, row.mode, event_type, payment_method_data(row))


def refund_data(row: Refund, credit_note: Invoice | None) -> dict[str, Any]:
    return {
        "refund_id": row.id,
        "payment_id": row.payment_id,
        "customer_id": row.customer_id,
        "amount": row.amount,
        "currency": row.currency,
        "status": row.status.value,
        "reason": row.reason,
        "credit_note_id": credit_note.id if credit_note else None,
        "credit_note_number": credit_note.number if credit_note else None,
        "created_at": _iso(row.created_at),
    }


async def refund_event(row: Refund, credit_note: Invoice | None) -> None:
    event_type = "refund.succeeded" if row.status.value == "succeeded" else "refund.failed"
    await record_event(row.business_id, row.mode, event_type, refund_data(row, credit_note))


def plan_change_data(row: PlanChange) -> dict[str, Any]:
    return {
        "plan_change_id": row.id,
        "kind": row.kind.value,
        "status": row.status.value,
        "from_product_id": row.from_product_id,
        "to_product_id": row.to_product_id,
        "effective_at": _iso(row.effective_at),
        "proration_credit": row.credit_amount,
        "proration_charge": row.charge_amount,
        "currency": row.currency,
        "invoice_id": row.invoice_id,
        "payment_id": row.payment_id,
        "requested_by": "customer" if row.requested_by_customer else "merchant",
    }


async def plan_change_event(
    event_type: str, subscription: Subscription, change: PlanChange
) -> None:
    """subscription.plan_changed, .plan_change_scheduled, .plan_change_cancelled,
    .plan_change_failed: the subscription as it is now, with the change."""
    data = subscription_data(subscription)
    data["plan_change"] = plan_change_data(change)
    await record_event(subscription.business_id, subscription.mode, event_type, data)
