"""Changing plan: an upgrade charged and applied now (three steps, like every charge: claim,
gateway, outcome), or a downgrade handed to services/billing/scheduled_plan_changes.py. What
is checked and previewed first is in plan_checks.py; the rule in proration.py and the README
("Plan changes")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PlanChange,
    PlanChangeKind,
    PlanChangeStatus,
    Product,
    Subscription,
)
from models.clock import now
from models.ids import new_id
from services.billing.charging import (
    PaymentSource,
    charge_source,
    decline_error,
    open_payment,
    record_payment_outcome,
    unavailable_error,
    with_idempotency,
)
from services.billing.invoices import create_invoice
from services.billing.notifications import send_plan_change, send_receipt
from services.billing.proration import Proration, plan_change_terms
from services.billing.subscriptions import get_subscription
from services.errors import ConfigurationError, ServiceError
from services.events import payment_event, plan_change_event
from services.outbox import notify_worker
from services.payments.gateway import ChargeResult, ChargeStatus
from services.payments.gateway_config import gateway_for
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings


from services.billing.plan_checks import (
    PlanChangePreview,
    PlanChangeResult,
    check_state,
    claimable,
    lost_race,
    preview_for,
    target,
)
from services.billing.scheduled_plan_changes import schedule_downgrade


async def change_plan(
    settings: Settings,
    scope: Scope,
    caller: str,
    *,
    subscription_id: str,
    product_id: str,
    idempotency_key: str | None,
) -> PlanChangeResult:
    request = {"subscription_id": subscription_id, "product_id": product_id}

    async def work() -> PlanChangeResult:
        subscription = await get_subscription(scope, subscription_id)
        check_state(subscription)
        current, product = await target(scope, subscription, product_id)
        preview = await preview_for(scope, subscription, current, product)
        by_customer = scope.customer_id is not None
        if preview.terms.kind == PlanChangeKind.DOWNGRADE:
            return await schedule_downgrade(
                settings, subscription, current, product, preview, by_customer
            )
        return await _upgrade(settings, scope, subscription, current, product, preview, by_customer)

    result = await with_idempotency(
        settings, scope, caller, idempotency_key, "changePlan", request, work
    )
    if isinstance(result, PlanChangeResult):
        return result
    # A replay: the change is found from what was recorded.
    replay = PlanChangeResult(
        result.subscription, result.payment, result.invoice, result.error, result.client_secret
    )
    if result.payment is not None:
        replay.plan_change = await PlanChange.get_or_none(payment_id=result.payment.id)
    elif result.subscription is not None and result.subscription.scheduled_plan_change_id:
        replay.plan_change = await PlanChange.get_or_none(
            id=result.subscription.scheduled_plan_change_id
        )
    return replay


def _new_plan(product: Product, terms: Proration) -> dict[str, Any]:
    """The subscription's columns once it is on `product`."""
    assert product.interval is not None
    fields: dict[str, Any] = {
        "product_id": product.id,
        "price_amount": product.price_amount,
        "interval": product.interval,
        "interval_count": product.interval_count or 1,
    }
    if terms.new_period:
        fields.update(current_period_start=terms.period_start, next_billing_date=terms.period_end)
    return fields


async def _upgrade(
    settings: Settings,
    scope: Scope,
    subscription: Subscription,
    current: Product,
    product: Product,
    preview: PlanChangePreview,
    by_customer: bool,
) -> PlanChangeResult:
    terms = preview.terms
    method_id = subscription.payment_method_id
    method = (
        await PaymentMethod.get_or_none(id=method_id, removed_at__isnull=True)
        if method_id
        else None
    )
    if method is None and preview.amount_due_now > 0:
        raise ServiceError(
            "No card is on file for this subscription; add one first.",
            code="NO_PAYMENT_METHOD",
            field=["subscriptionId"],
        )
    gateway = await gateway_for(settings, scope) if preview.amount_due_now > 0 else None
    at = now()
    payment_id = new_id("pay")
    common = {
        "business_id": subscription.business_id,
        "mode": subscription.mode,
        "subscription_id": subscription.id,
        "customer_id": subscription.customer_id,
        "kind": PlanChangeKind.UPGRADE,
        "from_product_id": current.id,
        "to_product_id": product.id,
        "effective_at": terms.effective_at,
        "requested_by_customer": by_customer,
        "credit_amount": terms.credit,
        "charge_amount": terms.charge,
        "currency": subscription.currency,
    }
    if preview.amount_due_now <= 0:
        # Nothing to charge (the last seconds of a period): the change is made as it is.
        async with in_transaction():
            change = await PlanChange.create(
                **common, status=PlanChangeStatus.APPLIED, applied_at=at
            )
            taken = await Subscription.filter(**claimable(subscription)).update(
                **_new_plan(product, terms), updated_at=at
            )
            if taken != 1:
                raise lost_race()
            await subscription.refresh_from_db()
            await plan_change_event("subscription.plan_changed", subscription, change)
            if by_customer:
                await send_plan_change(settings, subscription, change, current, product)
        notify_worker()
        return PlanChangeResult(subscription, plan_change=change)

    assert method is not None and gateway is not None
    async with in_transaction():
        taken = await Subscription.filter(**claimable(subscription)).update(
            charging_payment_id=payment_id
        )
        if taken != 1:
            raise lost_race()
        invoice = await create_invoice(
            business_id=subscription.business_id,
            mode=subscription.mode,
            customer_id=subscription.customer_id,
            subscription_id=subscription.id,
            currency=subscription.currency,
            period_start=terms.period_start,
            period_end=terms.period_end,
            items=preview.items,
        )
        payment = await open_payment(
            payment_id,
            scope,
            subscription.customer_id,
            PaymentSource(method=method),
            amount=invoice.total_amount,
            currency=subscription.currency,
            product_id=product.id,
            invoice=invoice,
            subscription=subscription,
            off_session=not by_customer,
        )
        change = await PlanChange.create(
            **common,
            status=PlanChangeStatus.PENDING,
            invoice_id=invoice.id,
            payment_id=payment.id,
        )
    try:
        result, _ = await charge_source(gateway, payment, PaymentSource(method=method))
    except ConfigurationError as refused:
        result = ChargeResult.failed(refused.code, refused.message)
    except GatewayUnavailable:  # PROCESSING, claimed: settlement asks the processor later
        return PlanChangeResult(
            subscription, payment, invoice, unavailable_error(), plan_change=change
        )
    error = await finish_plan_change(settings, change, payment, result)
    notify_worker()
    await subscription.refresh_from_db()
    await payment.refresh_from_db()
    await invoice.refresh_from_db()
    await change.refresh_from_db()
    return PlanChangeResult(
        subscription, payment, invoice, error, result.client_secret, plan_change=change
    )


async def finish_plan_change(
    settings: Settings, change: PlanChange, payment: Payment, result: ChargeResult
) -> ServiceError | None:
    """Step three of an upgrade (also run by settlement): on success the invoice PAID and the
    subscription on the new plan; on failure the invoice VOID, the payment FAILED, and the
    subscription exactly as it was. Runs once per payment."""
    at = now()
    subscription = await Subscription.get(id=change.subscription_id)
    invoice = await Invoice.get(id=payment.invoice_id)
    product = await Product.get(id=change.to_product_id)
    async with in_transaction():
        if not await record_payment_outcome(payment, result, None):
            return None  # settled already
        if result.status in (ChargeStatus.PROCESSING, ChargeStatus.REQUIRES_ACTION):
            return None  # claimed until the processor or the customer tells
        claimed = {"id": subscription.id, "charging_payment_id": payment.id}
        if result.succeeded:
            await Invoice.filter(id=invoice.id).update(
                status=InvoiceStatus.PAID, amount_due=0, paid_at=at
            )
            terms = plan_change_terms(subscription, product, change.effective_at)
            await Subscription.filter(**claimed).update(
                **_new_plan(product, terms), charging_payment_id=None, updated_at=at
            )
            await PlanChange.filter(id=change.id).update(
                status=PlanChangeStatus.APPLIED, applied_at=at
            )
            await change.refresh_from_db()
            await invoice.refresh_from_db()
            await subscription.refresh_from_db()
            await send_receipt(settings, payment, invoice, product.name)
            if change.requested_by_customer:
                current = await Product.get(id=change.from_product_id)
                await send_plan_change(settings, subscription, change, current, product)
            await payment_event(payment)
            await plan_change_event("subscription.plan_changed", subscription, change)
            return None
        # A failed charge changes nothing: the invoice is void, the subscription released.
        await Invoice.filter(id=invoice.id).update(status=InvoiceStatus.VOID, amount_due=0)
        await Subscription.filter(**claimed).update(charging_payment_id=None)
        await PlanChange.filter(id=change.id).update(status=PlanChangeStatus.FAILED)
        await change.refresh_from_db()
        await payment_event(payment)
        await plan_change_event("subscription.plan_change_failed", subscription, change)
        return decline_error(result)


async def plan_change_of_payment(payment_id: str) -> PlanChange | None:
    return await PlanChange.get_or_none(payment_id=payment_id)
