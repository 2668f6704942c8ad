"""Replacing a subscription's card, which for an ON_HOLD subscription also pays what is owed
and makes it ACTIVE again. Three steps, because the gateway call must not sit inside a
transaction: claim (one transaction), charge, record the outcome (one transaction)."""

from __future__ import annotations

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
from services.billing.charging import (
    BillingResult,
    PaymentSource,
    attach_saved_card,
    card_request,
    charge_source,
    decline_error,
    open_payment,
    record_payment_outcome,
    resolve_source,
    with_idempotency,
)
from services.billing.notifications import send_reactivated, send_receipt
from services.billing.payment_methods import store_saved_card
from services.billing.periods import add_interval
from services.billing.subscriptions import get_subscription
from services.errors import InvalidState, ServiceError
from services.events import payment_event, payment_method_event, subscription_event
from services.outbox import notify_worker
from services.payments.cards import CardDetails, CardError
from services.payments.gateway import ChargeResult, SavedCard, gateway_for
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings


async def update_payment_method(
    settings: Settings,
    scope: Scope,
    caller: str,
    *,
    subscription_id: str,
    payment_method_id: str | None,
    card: CardDetails | None,
    idempotency_key: str | None,
) -> BillingResult:
    request = {
        "subscription_id": subscription_id,
        "payment_method_id": payment_method_id,
        "card": card_request(card),
    }

    async def work() -> BillingResult:
        subscription = await get_subscription(scope, subscription_id)
        customer_id: str = subscription.customer_id
        source = await resolve_source(scope, customer_id, payment_method_id, card)
        if subscription.status == SubscriptionStatus.ACTIVE:
            return await _swap(scope, subscription, source)
        if subscription.status == SubscriptionStatus.ON_HOLD:
            return await _pay_and_reactivate(settings, scope, subscription, source)
        raise InvalidState(
            "Only an active or on-hold subscription's payment method can be changed.",
            field=["subscriptionId"],
        )

    return await with_idempotency(
        settings, scope, caller, idempotency_key, "updatePaymentMethod", request, work
    )


async def _swap(scope: Scope, subscription: Subscription, source: PaymentSource) -> BillingResult:
    """ACTIVE: the card changes, nothing is charged. A new card is checked like a zero-amount
    authorization first."""
    customer_id: str = subscription.customer_id
    method = source.method
    saved = None
    if method is None:
        assert source.card is not None
        saved = await gateway_for(scope.mode).save_card(source.card)
    async with in_transaction():
        if saved is not None:
            method = await store_saved_card(scope, customer_id, saved)
            await payment_method_event("payment_method.added", method)
        assert method is not None
        changed = await Subscription.filter(
            id=subscription.id, status=SubscriptionStatus.ACTIVE
        ).update(payment_method_id=method.id, updated_at=now())
        if changed != 1:
            raise InvalidState("The subscription changed meanwhile. Try again.")
        await subscription.refresh_from_db()
        await subscription_event("subscription.updated", subscription)
    return BillingResult(subscription=subscription)


async def _pay_and_reactivate(
    settings: Settings, scope: Scope, subscription: Subscription, source: PaymentSource
) -> BillingResult:
    customer_id: str = subscription.customer_id
    payment_id = new_id("pay")
    # Step 1: claim the subscription with a conditional update: of concurrent requests exactly
    # one wins; the others are told a payment is under way.
    async with in_transaction():
        claimed = await Subscription.filter(
            id=subscription.id,
            status=SubscriptionStatus.ON_HOLD,
            charging_payment_id__isnull=True,
        ).update(charging_payment_id=payment_id)
        if claimed == 1:
            open_invoices = list(
                await Invoice.filter(
                    subscription_id=subscription.id, status=InvoiceStatus.OPEN
                ).order_by("created_at", "id")
            )
            owed = sum(invoice.amount_due for invoice in open_invoices)
            payment = await open_payment(
                payment_id,
                scope,
                customer_id,
                source,
                amount=owed,
                currency=subscription.currency,
                product_id=subscription.product_id,
                invoice=open_invoices[-1] if open_invoices else None,
                subscription=subscription,
            )
    if claimed != 1:
        raise InvalidState(
            "A payment for this subscription is already under way.",
            code="PAYMENT_IN_PROGRESS",
            field=["subscriptionId"],
            retryable=True,
        )

    # Step 2: the gateway, keyed by the payment id.
    if owed > 0:
        result, saved = await charge_source(scope.mode, payment, source)
    else:  # nothing owed: reactivate without a charge (only a new card is checked and saved)
        result, saved = None, None
        if source.card is not None:
            try:
                saved = await gateway_for(scope.mode).save_card(source.card)
            except CardError as refused:  # recorded like a declined charge: nothing stays claimed
                result = ChargeResult(False, None, refused.code, refused.message)

    # Step 3: record the outcome.
    error = await finish_reactivation(
        settings, subscription, payment, open_invoices, source.method, saved, result
    )
    notify_worker()
    await subscription.refresh_from_db()
    await payment.refresh_from_db()
    invoice = open_invoices[-1] if open_invoices else None
    if invoice is not None:
        await invoice.refresh_from_db()
    return BillingResult(subscription, payment, invoice, error)


async def finish_reactivation(
    settings: Settings,
    subscription: Subscription,
    payment: Payment,
    open_invoices: list[Invoice],
    method: PaymentMethod | None,
    saved: SavedCard | None,
    result: ChargeResult | None,
) -> ServiceError | None:
    """Step three of paying what an ON_HOLD subscription owes (also run by settlement after a
    crash). `result` is None when nothing was owed and nothing was charged."""
    scope = Scope(subscription.business_id, subscription.mode)
    customer_id: str = subscription.customer_id
    product = await Product.get(id=subscription.product_id)
    at = now()
    async with in_transaction():
        outcome = result or ChargeResult(True, None)
        if not await record_payment_outcome(payment, outcome, method):
            return None  # settled already
        if not outcome.succeeded:
            await Subscription.filter(id=subscription.id, charging_payment_id=payment.id).update(
                charging_payment_id=None
            )
            await payment_event(payment)
            return decline_error(outcome)
        if method is None and saved is not None:
            method = await attach_saved_card(scope, customer_id, payment, saved)
        await Invoice.filter(id__in=[i.id for i in open_invoices]).update(
            status=InvoiceStatus.PAID, amount_due=0, paid_at=at
        )
        await Subscription.filter(id=subscription.id, charging_payment_id=payment.id).update(
            status=SubscriptionStatus.ACTIVE,
            payment_method_id=method.id if method else subscription.payment_method_id,
            current_period_start=at,
            next_billing_date=add_interval(at, subscription.interval, subscription.interval_count),
            charging_payment_id=None,
            updated_at=at,
        )
        await subscription.refresh_from_db()
        invoice = open_invoices[-1] if open_invoices else None
        if invoice is not None and result is not None:
            await invoice.refresh_from_db()
            await send_receipt(settings, payment, invoice, product.name)
        await send_reactivated(settings, subscription, product)
        if result is not None:
            await payment_event(payment)  # before subscription.active, as merchants expect
        await subscription_event("subscription.active", subscription)
        return None
