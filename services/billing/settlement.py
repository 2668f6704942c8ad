"""Settling a payment whose outcome arrives after the request that started it: left PROCESSING
by a crash between the gateway call and step three, waiting for the customer to authenticate,
or told by the processor's webhook. The outcome is asked of the gateway (with the payment's id,
its idempotency key, or the processor's reference) and recorded with the same step three the
starting request would have run. Whichever arrives first settles it; the others find it
settled (step three's conditional update)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from models import (
    Customer,
    Invoice,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Product,
    Subscription,
    SubscriptionStatus,
)
from models.clock import now
from services.billing.charging import (
    OPEN_STATUSES,
    BillingResult,
    decline_error,
    record_payment_outcome,
    unavailable_error,
)
from services.billing.dunning import finish_reactivation, open_invoices_of
from services.billing.one_time import finish_one_time
from services.billing.renewals import finish_renewal
from services.billing.subscriptions import finish_first_charge
from services.errors import NotFound
from services.outbox import notify_worker
from services.payments.gateway import ChargeResult, PaymentGateway
from services.payments.gateway_config import gateway_for
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings

logger = logging.getLogger("portal.billing")
STALE_AFTER = timedelta(minutes=10)


async def settle_stale_payments(settings: Settings, older_than: timedelta = STALE_AFTER) -> int:
    """Asks about every payment left PROCESSING for a while; returns how many it settled."""
    stale = await Payment.filter(
        status=PaymentStatus.PROCESSING, updated_at__lt=now() - older_than
    ).order_by("created_at")
    settled = 0
    for payment in stale:
        try:
            if await settle_payment(settings, payment):
                settled += 1
        except GatewayUnavailable:
            logger.warning("settling %s: the gateway did not answer; tried again later", payment.id)
        except Exception:  # one bad row must not stop the others, nor the renewals after
            logger.exception("settling %s failed; it will be tried again", payment.id)
    if settled:
        notify_worker()
    return settled


async def _method_of(payment: Payment) -> PaymentMethod | None:
    method_id = payment.payment_method_id
    return await PaymentMethod.get_or_none(id=method_id) if method_id else None


async def settle_payment(
    settings: Settings,
    payment: Payment,
    result: ChargeResult | None = None,
    gateway: PaymentGateway | None = None,
) -> bool:
    """Records what became of an open payment (asked of its gateway unless given) with its
    step three. True when this call moved it to a final state: False when it is still open,
    or when another process (a second worker, the processor's webhook) recorded the outcome
    first, so that settlements counted across processes add up to the payments settled."""
    scope = Scope(payment.business_id, payment.mode)
    # record_payment_outcome reloads `payment` only when its own conditional update won.
    before = payment.status
    if gateway is None:
        gateway = await gateway_for(settings, scope)
    customer = await Customer.get(id=payment.customer_id)
    method = await _method_of(payment)
    if result is None:
        result = await gateway.outcome(customer, payment, method.gateway_token if method else None)
    saved = None
    if result.succeeded and method is None and payment.gateway_payment_method:
        # Paid with a new card that needed authentication: it is kept now.
        saved = await gateway.saved_card_of(customer, payment.gateway_payment_method)
    invoice = await Invoice.get_or_none(id=payment.invoice_id) if payment.invoice_id else None
    subscription_id = payment.subscription_id
    if subscription_id is None:
        assert invoice is not None
        product = await Product.get(id=payment.product_id)
        await finish_one_time(settings, payment, invoice, product, method, saved, result)
        return result.final and payment.status != before
    subscription = await Subscription.get(id=subscription_id)
    product = await Product.get(id=subscription.product_id)
    if subscription.charging_payment_id != payment.id:
        # The subscription moved on without this payment: record the outcome, change nothing.
        recorded = await record_payment_outcome(payment, result, method)
        return result.final and recorded
    if subscription.status == SubscriptionStatus.PENDING:
        assert invoice is not None
        await finish_first_charge(
            settings, subscription, invoice, payment, product, method, saved, result
        )
    elif subscription.status == SubscriptionStatus.ON_HOLD:
        open_invoices = await open_invoices_of(subscription)
        await finish_reactivation(
            settings, subscription, payment, open_invoices, method, saved, result
        )
    else:
        assert invoice is not None
        await finish_renewal(settings, subscription, invoice, payment, product, result)
    if payment.status == before:
        return False
    logger.info("settled %s: %s", payment.id, result.status)
    return result.final


async def confirm_payment(settings: Settings, scope: Scope, payment_id: str) -> BillingResult:
    """The customer (or the merchant) asks what became of a payment, e.g. back from
    authenticating it: the gateway is asked and the outcome settled. A payment already final is
    answered as it is, and nothing changes."""
    filters = scope.filters()
    payment = await Payment.get_or_none(id=payment_id, **filters)
    if payment is None:
        raise NotFound("payment", field=["paymentId"])
    client_secret = None
    if payment.status in OPEN_STATUSES:
        try:
            await settle_payment(settings, payment)
        except GatewayUnavailable:
            raise unavailable_error() from None
        notify_worker()
        await payment.refresh_from_db()
        if payment.status == PaymentStatus.REQUIRES_ACTION:
            gateway = await gateway_for(settings, scope)
            client_secret = await gateway.client_secret(payment)
    subscription = (
        await Subscription.get_or_none(id=payment.subscription_id)
        if payment.subscription_id
        else None
    )
    invoice = await Invoice.get_or_none(id=payment.invoice_id) if payment.invoice_id else None
    error = None
    if payment.status == PaymentStatus.FAILED:
        error = decline_error(
            ChargeResult.failed(
                payment.failure_code or "CARD_DECLINED", payment.failure_message or ""
            )
        )
    return BillingResult(subscription, payment, invoice, error, client_secret)


async def client_secret_of(settings: Settings, scope: Scope, payment_id: str) -> str | None:
    """For a payment of the scope that waits for the customer to authenticate: what their
    browser needs (asked of the processor, never stored)."""
    payment = await Payment.get_or_none(id=payment_id, **scope.filters())
    if payment is None or payment.status != PaymentStatus.REQUIRES_ACTION:
        return None
    gateway = await gateway_for(settings, scope)
    try:
        return await gateway.client_secret(payment)
    except GatewayUnavailable:
        return None
