"""Replacing a subscription's card, which for an ON_HOLD subscription also pays what is owed
and makes it ACTIVE again. Three steps, because the gateway call must not sit inside a
transaction: claim (one transaction), charge, record the outcome (one transaction). A charge
that waits for the customer to authenticate keeps the claim; it settles when they have
(the processor's webhook, or confirmPayment), or is given up when they try another card."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Product,
    Subscription,
    SubscriptionStatus,
)
from models.clock import now
from models.ids import new_id
from services.billing.charging import (
    BillingResult,
    CardInput,
    PaymentSource,
    attach_saved_card,
    charge_source,
    decline_error,
    open_payment,
    payment_gateway,
    record_payment_outcome,
    resolve_source,
    unavailable_error,
    with_idempotency,
)
from services.billing.notifications import send_reactivated, send_receipt
from services.billing.payment_methods import SavedOrPending, save_new_card
from services.billing.periods import add_interval
from services.billing.subscriptions import get_subscription
from services.errors import InvalidState, ServiceError
from services.events import payment_event, subscription_event
from services.outbox import notify_worker
from services.payments.gateway import ChargeResult, ChargeStatus, PaymentGateway, SavedCard
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings

# A PROCESSING payment older than this is not in flight any more: a new attempt asks the
# gateway what became of it instead of waiting for the settlement run.
IN_FLIGHT = timedelta(seconds=60)


async def update_payment_method(
    settings: Settings,
    scope: Scope,
    caller: str,
    *,
    subscription_id: str,
    card: CardInput,
    idempotency_key: str | None,
) -> BillingResult:
    gateway = await payment_gateway(settings, scope, card)
    request = {"subscription_id": subscription_id, **card.fingerprint()}

    async def work() -> BillingResult:
        subscription = await get_subscription(scope, subscription_id)
        source = await resolve_source(gateway, scope, subscription.customer_id, card)
        if subscription.status == SubscriptionStatus.ACTIVE:
            return await _swap(gateway, scope, subscription, source)
        if subscription.status == SubscriptionStatus.ON_HOLD:
            return await _pay_and_reactivate(settings, gateway, scope, subscription, source)
        raise InvalidState(
            "Only an active or on-hold subscription's payment method can be changed.",
            field=["subscriptionId"],
        )

    return await with_idempotency(
        settings, scope, caller, idempotency_key, "updatePaymentMethod", request, work
    )


async def _swap(
    gateway: PaymentGateway, scope: Scope, subscription: Subscription, source: PaymentSource
) -> BillingResult:
    """ACTIVE: the card changes, nothing is charged. A new card is saved first (checked like a
    zero-amount authorization; with a processor, a setup the bank may want to authenticate)."""
    method = source.method
    if method is None:
        assert source.card is not None
        customer = await Customer.get(id=subscription.customer_id)
        saved: SavedOrPending = await save_new_card(gateway, scope, customer, source.card)
        if saved.method is None:
            return BillingResult(subscription=subscription, client_secret=saved.client_secret)
        method = saved.method
    async with in_transaction():
        changed = await Subscription.filter(
            id=subscription.id, status=SubscriptionStatus.ACTIVE
        ).update(payment_method_id=method.id, updated_at=now())
        if changed != 1:
            # A lost race, not an answer: the idempotency key is released, so the same
            # request sent again is answered from the subscription as it is then.
            raise InvalidState("The subscription changed meanwhile. Try again.", retryable=True)
        await subscription.refresh_from_db()
        await subscription_event("subscription.updated", subscription)
    return BillingResult(subscription=subscription)


async def _claim(subscription: Subscription, payment_id: str) -> bool:
    claimed = await Subscription.filter(
        id=subscription.id,
        status=SubscriptionStatus.ON_HOLD,
        charging_payment_id__isnull=True,
    ).update(charging_payment_id=payment_id)
    return claimed == 1


async def _settle_earlier_attempt(
    settings: Settings, gateway: PaymentGateway, subscription: Subscription
) -> None:
    """The subscription is claimed by an earlier payment. One waiting for authentication is
    asked about and, if the customer never completed it, given up (cancelled with the
    processor, so it can never complete), which frees the subscription for this attempt. One
    PROCESSING for a while is asked about and settled. One in flight is left alone."""
    await subscription.refresh_from_db()
    payment_id = subscription.charging_payment_id
    if payment_id is None:
        return
    payment = await Payment.get_or_none(id=payment_id)
    if payment is None:
        return
    waiting = payment.status == PaymentStatus.REQUIRES_ACTION
    stale = payment.status == PaymentStatus.PROCESSING and payment.updated_at < now() - IN_FLIGHT
    if not (waiting or stale):
        return
    customer = await Customer.get(id=payment.customer_id)
    method = await _method_of(payment)
    try:
        result = await gateway.outcome(customer, payment, method.gateway_token if method else None)
    except GatewayUnavailable:
        raise unavailable_error() from None
    if result.status == ChargeStatus.REQUIRES_ACTION:
        try:
            await gateway.cancel(payment)
        except GatewayUnavailable:
            raise unavailable_error() from None
        result = ChargeResult.failed("CANCELLED", "Replaced by another attempt.", result.reference)
    saved = None
    if result.succeeded and method is None and payment.gateway_payment_method:
        saved = await gateway.saved_card_of(customer, payment.gateway_payment_method)
    open_invoices = await open_invoices_of(subscription)
    await finish_reactivation(settings, subscription, payment, open_invoices, method, saved, result)


async def _release(subscription: Subscription, payment: Payment) -> None:
    """Gives up a payment that was never sent to the gateway, and its claim."""
    await Payment.filter(id=payment.id, status=PaymentStatus.PROCESSING).update(
        status=PaymentStatus.CANCELLED, updated_at=now()
    )
    await Subscription.filter(id=subscription.id, charging_payment_id=payment.id).update(
        charging_payment_id=None
    )


async def open_invoices_of(subscription: Subscription) -> list[Invoice]:
    """What an ON_HOLD subscription owes, oldest first."""
    return list(
        await Invoice.filter(subscription_id=subscription.id, status=InvoiceStatus.OPEN).order_by(
            "created_at", "id"
        )
    )


async def _method_of(payment: Payment) -> PaymentMethod | None:
    if payment.payment_method_id is None:
        return None
    return await PaymentMethod.get_or_none(id=payment.payment_method_id)


async def _pay_and_reactivate(
    settings: Settings,
    gateway: PaymentGateway,
    scope: Scope,
    subscription: Subscription,
    source: PaymentSource,
) -> BillingResult:
    customer_id = subscription.customer_id
    payment_id = new_id("pay")
    # Step 1: claim the subscription with a conditional update: of concurrent requests exactly
    # one wins; the others are told a payment is under way.
    async with in_transaction():
        claimed = await _claim(subscription, payment_id)
    if not claimed:
        await _settle_earlier_attempt(settings, gateway, subscription)
        await subscription.refresh_from_db()
        if subscription.status == SubscriptionStatus.ACTIVE:
            return BillingResult(subscription=subscription)  # the earlier attempt paid it
        async with in_transaction():
            claimed = await _claim(subscription, payment_id)
    if not claimed:
        raise InvalidState(
            "A payment for this subscription is already under way.",
            code="PAYMENT_IN_PROGRESS",
            field=["subscriptionId"],
            retryable=True,
        )
    async with in_transaction():
        open_invoices = await open_invoices_of(subscription)
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

    # Step 2: the gateway, keyed by the payment id.
    saved: SavedCard | None = None
    result: ChargeResult | None = None
    if owed > 0:
        try:
            result, saved = await charge_source(gateway, payment, source)
        except GatewayUnavailable:
            # The processor may have charged: the payment stays PROCESSING, and the claim with
            # it, until the processor tells (settlement asks; so does the next attempt).
            return BillingResult(subscription, payment, None, unavailable_error())
    elif source.card is not None:
        # Nothing owed: reactivate without a charge; a new card is only checked and saved.
        customer = await Customer.get(id=customer_id)
        try:
            kept = await save_new_card(gateway, scope, customer, source.card)
        except ServiceError as refused:  # recorded like a declined charge: nothing stays claimed
            result = ChargeResult.failed(refused.code, refused.message)
        else:
            if kept.method is None:  # the bank wants to see the customer: nothing to do yet
                async with in_transaction():
                    await _release(subscription, payment)
                return BillingResult(subscription=subscription, client_secret=kept.client_secret)
            source = PaymentSource(method=kept.method)

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
    client_secret = result.client_secret if result is not None else None
    return BillingResult(subscription, payment, invoice, error, client_secret)


async def finish_reactivation(
    settings: Settings,
    subscription: Subscription,
    payment: Payment,
    open_invoices: list[Invoice],
    method: PaymentMethod | None,
    saved: SavedCard | None,
    result: ChargeResult | None,
) -> ServiceError | None:
    """Step three of paying what an ON_HOLD subscription owes (also run by settlement, by the
    processor's webhook and by confirmPayment). `result` is None when nothing was owed and
    nothing was charged."""
    scope = Scope(subscription.business_id, subscription.mode)
    customer_id = subscription.customer_id
    product = await Product.get(id=subscription.product_id)
    at = now()
    async with in_transaction():
        outcome = result or ChargeResult(ChargeStatus.SUCCEEDED)
        if not await record_payment_outcome(payment, outcome, method):
            return None  # settled already
        if outcome.status in (ChargeStatus.REQUIRES_ACTION, ChargeStatus.PROCESSING):
            return None  # the subscription stays ON_HOLD and claimed until it settles
        if not outcome.succeeded:
            await Subscription.filter(id=subscription.id, charging_payment_id=payment.id).update(
                charging_payment_id=None
            )
            await payment_event(payment)
            return decline_error(outcome)
        if method is None and saved is not None:
            method = await attach_saved_card(scope, customer_id, payment, saved)
        # The invoices this payment covers, oldest first (all of them when it paid the sum).
        covered, left = [], payment.amount if result is not None else 0
        for invoice in open_invoices:
            if result is None or invoice.amount_due <= left:
                covered.append(invoice.id)
                left -= invoice.amount_due if result is not None else 0
        await Invoice.filter(id__in=covered, status=InvoiceStatus.OPEN).update(
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
        last = open_invoices[-1] if open_invoices else None
        if last is not None and result is not None:
            await last.refresh_from_db()
            await send_receipt(settings, payment, last, product.name)
        await send_reactivated(settings, subscription, product)
        if result is not None:
            await payment_event(payment)  # before subscription.active, as merchants expect
        await subscription_event("subscription.active", subscription)
        return None
