"""Renewals and dunning: every due subscription is renewed, ended, or put ON_HOLD."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Product,
    Subscription,
    SubscriptionStatus,
)
from models.clock import now
from models.ids import new_id
from services import payment_updates
from services.billing.charging import (
    PaymentSource,
    charge_source,
    open_payment,
    record_payment_outcome,
)
from services.billing.invoices import InvoiceItem, create_invoice
from services.billing.notifications import send_on_hold, send_receipt
from services.billing.pauses import pause_at_period_end, resume_due_subscriptions
from services.billing.periods import add_interval
from services.billing.scheduled_plan_changes import apply_scheduled_change, drop_scheduled_change
from services.errors import ConfigurationError
from services.events import payment_event, subscription_event
from services.outbox import notify_worker
from services.payments.gateway import ChargeResult, ChargeStatus
from services.payments.gateway_config import gateway_for
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings

logger = logging.getLogger("portal.billing")
BATCH = 200


@dataclass
class RenewalSummary:
    renewed: int = 0
    failed: int = 0
    ended: int = 0
    paused: int = 0
    resumed: int = 0


async def renew_due_subscriptions(settings: Settings, scope: Scope | None = None) -> RenewalSummary:
    """Processes every renewal due now (for one business and mode, or for all)."""
    summary = RenewalSummary()
    summary.resumed = await resume_due_subscriptions(settings, scope)
    seen: set[str] = set()
    while True:
        query = Subscription.filter(
            status=SubscriptionStatus.ACTIVE,
            next_billing_date__lte=now(),
            charging_payment_id__isnull=True,
        )
        if scope is not None:
            query = query.filter(business_id=scope.business_id, mode=scope.mode)
        due = [
            s
            for s in await query.order_by("next_billing_date", "id").limit(BATCH)
            if s.id not in seen
        ]
        if not due:
            return summary
        for subscription in due:
            seen.add(subscription.id)
            outcome = await renew_subscription(settings, subscription)
            if outcome == "renewed":
                summary.renewed += 1
            elif outcome == "failed":
                summary.failed += 1
            elif outcome == "ended":
                summary.ended += 1
            elif outcome == "paused":
                summary.paused += 1


async def renew_subscription(settings: Settings, subscription: Subscription) -> str | None:
    """Returns "renewed", "failed", "ended", "paused", or None when another worker got there
    first."""
    at = now()
    if subscription.cancel_at_next_billing_date:
        async with in_transaction():
            ended = await Subscription.filter(
                id=subscription.id,
                status=SubscriptionStatus.ACTIVE,
                cancel_at_next_billing_date=True,
                charging_payment_id__isnull=True,
            ).update(status=SubscriptionStatus.CANCELLED, cancelled_at=at, updated_at=at)
            if ended:
                await drop_scheduled_change(subscription.id, at)
                await subscription.refresh_from_db()
                await subscription_event("subscription.cancelled", subscription)
        return "ended" if ended else None
    if subscription.pause_at_next_billing_date:
        return "paused" if await pause_at_period_end(subscription) else None

    # A downgrade scheduled for this period end: the renewal charges the new plan.
    subscription = await apply_scheduled_change(subscription, at)
    product = await Product.get(id=subscription.product_id)
    period_start = subscription.next_billing_date or at
    period_end = add_interval(period_start, subscription.interval, subscription.interval_count)
    if period_end <= at:  # the date was moved far back: bill one period from now, not arrears
        period_start, period_end = (
            at,
            add_interval(at, subscription.interval, subscription.interval_count),
        )
    payment_id = new_id("pay")
    method_id = subscription.payment_method_id
    method = (
        await PaymentMethod.get_or_none(id=method_id, removed_at__isnull=True)
        if method_id
        else None
    )

    async with in_transaction():
        claimed = await Subscription.filter(
            id=subscription.id,
            status=SubscriptionStatus.ACTIVE,
            charging_payment_id__isnull=True,
            cancel_at_next_billing_date=False,  # cancelled since the batch was read: end it next
            pause_at_next_billing_date=False,  # likewise for a pause
            next_billing_date=subscription.next_billing_date,
        ).update(charging_payment_id=payment_id)
        if claimed != 1:
            return None
        invoice = await create_invoice(
            business_id=subscription.business_id,
            mode=subscription.mode,
            customer_id=subscription.customer_id,
            subscription_id=subscription.id,
            currency=subscription.currency,
            period_start=period_start,
            period_end=period_end,
            items=[
                InvoiceItem(
                    product.name,
                    subscription.price_amount,
                    period_start=period_start,
                    period_end=period_end,
                    product_id=product.id,
                )
            ],
        )
        payment = await open_payment(
            payment_id,
            Scope(subscription.business_id, subscription.mode),
            subscription.customer_id,
            PaymentSource(method=method),
            amount=invoice.total_amount,
            currency=subscription.currency,
            product_id=product.id,
            invoice=invoice,
            subscription=subscription,
            # The customer is not there; a bank that wants them gets them by email.
            off_session=True,
        )

    if method is None:
        result = ChargeResult.failed("NO_PAYMENT_METHOD", "No card is on file.")
    else:
        scope = Scope(subscription.business_id, subscription.mode)
        try:
            gateway = await gateway_for(settings, scope)
            result, _ = await charge_source(gateway, payment, PaymentSource(method=method))
        except ConfigurationError as refused:
            result = ChargeResult.failed(refused.code, refused.message)
        except GatewayUnavailable:
            return None  # PROCESSING and claimed: settlement asks the processor later
    outcome = await finish_renewal(settings, subscription, invoice, payment, product, result)
    notify_worker()
    return outcome


async def finish_renewal(
    settings: Settings,
    subscription: Subscription,
    invoice: Invoice,
    payment: Payment,
    product: Product,
    result: ChargeResult,
) -> str | None:
    """Step three of a renewal (also run by settlement after a crash): a new period and a PAID
    invoice, or ON_HOLD with the invoice OPEN and an email with a fresh portal link."""
    at = now()
    async with payment_updates.transaction():
        if not await record_payment_outcome(payment, result, None):
            return None  # settled already
        if result.status == ChargeStatus.PROCESSING:
            return None  # claimed until the processor tells
        if result.status == ChargeStatus.REQUIRES_ACTION:
            # The bank wants the customer: ON_HOLD, still claimed by this payment, which the
            # customer completes from the link in the email (then it is ACTIVE again).
            await Subscription.filter(id=subscription.id, charging_payment_id=payment.id).update(
                status=SubscriptionStatus.ON_HOLD, updated_at=at
            )
            await subscription.refresh_from_db()
            await send_on_hold(
                settings,
                subscription,
                product,
                invoice.amount_due,
                authenticate=True,
                payment_id=payment.id,
            )
            await payment_event(payment)
            await subscription_event("subscription.on_hold", subscription)
            return "failed"
        if result.succeeded:
            await Invoice.filter(id=invoice.id).update(
                status=InvoiceStatus.PAID, amount_due=0, paid_at=at
            )
            await Subscription.filter(id=subscription.id, charging_payment_id=payment.id).update(
                current_period_start=invoice.period_start,
                next_billing_date=invoice.period_end,
                charging_payment_id=None,
                updated_at=at,
            )
            await invoice.refresh_from_db()
            await send_receipt(settings, payment, invoice, product.name)
            await subscription.refresh_from_db()
            await payment_event(payment)
            await subscription_event("subscription.renewed", subscription)
            return "renewed"
        await Subscription.filter(id=subscription.id, charging_payment_id=payment.id).update(
            status=SubscriptionStatus.ON_HOLD, charging_payment_id=None, updated_at=at
        )
        await subscription.refresh_from_db()
        await send_on_hold(settings, subscription, product, invoice.amount_due)
        await payment_event(payment)
        await subscription_event("subscription.on_hold", subscription)
        return "failed"
