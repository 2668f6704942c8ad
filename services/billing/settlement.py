"""Payments left PROCESSING by a crash between the gateway call and step three are settled by
asking the gateway again with the same idempotency key (the payment id), then recording the
outcome with the same step three the interrupted request would have run."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from models import (
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
from services.billing.charging import PaymentSource, charge_source, record_payment_outcome
from services.billing.dunning import finish_reactivation
from services.billing.one_time import finish_one_time
from services.billing.renewals import finish_renewal
from services.billing.subscriptions import finish_first_charge
from services.outbox import notify_worker
from services.payments.gateway import ChargeResult

if TYPE_CHECKING:
    from services.settings import Settings

logger = logging.getLogger("portal.billing")
STALE_AFTER = timedelta(minutes=10)

UNCONFIRMED = ChargeResult(
    False, None, "PROCESSING_ERROR", "The payment could not be confirmed with the processor."
)


async def settle_stale_payments(settings: Settings, older_than: timedelta = STALE_AFTER) -> int:
    """Returns how many payments it settled."""
    stale = await Payment.filter(
        status=PaymentStatus.PROCESSING, updated_at__lt=now() - older_than
    ).order_by("created_at")
    settled = 0
    for payment in stale:
        try:
            if await settle_payment(settings, payment):
                settled += 1
        except Exception:  # one bad row must not stop the others, nor the renewals after
            logger.exception("settling %s failed; it will be tried again", payment.id)
    if settled:
        notify_worker()
    return settled


async def settle_payment(settings: Settings, payment: Payment) -> bool:
    method_id = payment.payment_method_id
    method = await PaymentMethod.get_or_none(id=method_id) if method_id else None
    if method is not None:
        result, _ = await charge_source(payment.mode, payment, PaymentSource(method=method))
    else:
        # A card given inline is not kept until its charge succeeded: nothing to ask with.
        result = UNCONFIRMED
    invoice = await Invoice.get_or_none(id=payment.invoice_id)
    subscription_id = payment.subscription_id
    if subscription_id is None:
        assert invoice is not None
        product = await Product.get(id=payment.product_id)
        await finish_one_time(settings, payment, invoice, product, method, None, result)
        return True
    subscription = await Subscription.get(id=subscription_id)
    product = await Product.get(id=subscription.product_id)
    if subscription.charging_payment_id != payment.id:
        # The subscription moved on without this payment: record the outcome, change nothing.
        await record_payment_outcome(payment, result, method)
        return True
    if subscription.status == SubscriptionStatus.PENDING:
        assert invoice is not None
        await finish_first_charge(
            settings, subscription, invoice, payment, product, method, None, result
        )
    elif subscription.status == SubscriptionStatus.ON_HOLD:
        open_invoices = list(
            await Invoice.filter(
                subscription_id=subscription.id, status=InvoiceStatus.OPEN
            ).order_by("created_at", "id")
        )
        await finish_reactivation(
            settings, subscription, payment, open_invoices, method, None, result
        )
    else:
        assert invoice is not None
        await finish_renewal(settings, subscription, invoice, payment, product, result)
    logger.info("settled %s after a crash: %s", payment.id, "ok" if result.succeeded else "failed")
    return True
