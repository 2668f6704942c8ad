"""Plan changes: previewing what a change costs, an upgrade charged and applied now (three
steps, like every charge: claim, gateway, outcome), a downgrade scheduled for the period end
and taken back, and the renewal run applying it. The rule is in services/billing/proration.py
and the README ("Plan changes")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
    SubscriptionStatus,
)
from models.clock import now
from models.ids import new_id
from services.billing.charging import (
    BillingResult,
    PaymentSource,
    charge_source,
    decline_error,
    open_payment,
    record_payment_outcome,
    unavailable_error,
    with_idempotency,
)
from services.billing.invoices import InvoiceItem, create_invoice, price_items
from services.billing.notifications import send_plan_change, send_receipt
from services.billing.plan_families import plan_options
from services.billing.products import get_product
from services.billing.proration import Proration, plan_change_terms
from services.billing.subscriptions import get_subscription
from services.errors import ConfigurationError, InvalidState, ServiceError
from services.events import payment_event, plan_change_event
from services.outbox import notify_worker
from services.payments.gateway import ChargeResult, ChargeStatus
from services.payments.gateway_config import gateway_for
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings


@dataclass(frozen=True)
class PlanChangePreview:
    subscription: Subscription
    product: Product
    terms: Proration
    currency: str
    amount_due_now: int  # the invoice's total, VAT included; 0 for a downgrade
    tax_due_now: int
    next_renewal_amount: int  # the first renewal after the change, VAT included
    items: tuple[InvoiceItem, ...]


@dataclass
class PlanChangeResult(BillingResult):
    plan_change: PlanChange | None = None


async def _target(
    scope: Scope, subscription: Subscription, product_id: str
) -> tuple[Product, Product]:
    product = await get_product(scope, product_id)
    current = await Product.get(id=subscription.product_id)
    if product.id == current.id:
        raise ServiceError(
            "The subscription is on this plan already.", code="SAME_PLAN", field=["productId"]
        )
    if product.id not in {p.id for p in await plan_options(current)}:
        raise ServiceError(
            "This subscription cannot switch to that product: it is not in the same plan family.",
            code="NOT_IN_PLAN_FAMILY",
            field=["productId"],
        )
    if product.currency != subscription.currency:
        raise ServiceError(
            "The product is sold in another currency.",
            code="CURRENCY_MISMATCH",
            field=["productId"],
        )
    return current, product


def _check_state(subscription: Subscription) -> None:
    if subscription.status != SubscriptionStatus.ACTIVE or subscription.next_billing_date is None:
        raise InvalidState("Only an active subscription can change plan.", field=["subscriptionId"])
    if subscription.cancel_at_next_billing_date:
        raise InvalidState(
            "The subscription ends at its period end; undo the cancellation first.",
            field=["subscriptionId"],
        )
    if subscription.charging_payment_id is not None:
        raise InvalidState(
            "A payment for this subscription is under way. Try again shortly.",
            code="PAYMENT_IN_PROGRESS",
            field=["subscriptionId"],
            retryable=True,
        )
    if subscription.scheduled_plan_change_id is not None:
        raise InvalidState(
            "A plan change is scheduled for the period end; cancel it first.",
            code="PLAN_CHANGE_SCHEDULED",
            field=["subscriptionId"],
        )


def _items(
    subscription: Subscription, current: Product, product: Product, terms: Proration
) -> tuple[InvoiceItem, ...]:
    """The invoice of an upgrade: the credit for the unused part of the current plan (a
    quantity of -1, so that no price is negative, as EN 16931 wants: BR-27), and the new
    plan's part."""
    if terms.kind != PlanChangeKind.UPGRADE:
        return ()
    items: list[InvoiceItem] = []
    if terms.credit:
        items.append(
            InvoiceItem(
                f"Unused time on {current.name}",
                terms.credit,
                quantity=-1,
                period_start=terms.effective_at,
                period_end=subscription.next_billing_date,
                product_id=current.id,
            )
        )
    items.append(
        InvoiceItem(
            product.name if terms.new_period else f"Remaining time on {product.name}",
            terms.charge,
            period_start=terms.period_start,
            period_end=terms.period_end,
            product_id=product.id,
        )
    )
    return tuple(items)


async def _preview(
    scope: Scope, subscription: Subscription, current: Product, product: Product
) -> PlanChangePreview:
    terms = plan_change_terms(subscription, product, now())
    items = _items(subscription, current, product, terms)
    where: dict[str, Any] = {
        "business_id": scope.business_id,
        "mode": scope.mode,
        "customer_id": subscription.customer_id,
        "currency": subscription.currency,
    }
    due, tax = 0, 0
    if items:
        priced = await price_items(items=items, **where)
        due = priced.total
        tax = priced.amounts.tax_total if priced.amounts else 0
    renewal = await price_items(
        items=[InvoiceItem(product.name, product.price_amount, product_id=product.id)], **where
    )
    return PlanChangePreview(
        subscription, product, terms, subscription.currency, due, tax, renewal.total, items
    )


async def preview_plan_change(
    scope: Scope, subscription_id: str, product_id: str
) -> PlanChangePreview:
    subscription = await get_subscription(scope, subscription_id)
    _check_state(subscription)
    current, product = await _target(scope, subscription, product_id)
    return await _preview(scope, subscription, current, product)


async def scheduled_change(scope: Scope, subscription_id: str) -> PlanChange | None:
    subscription = await get_subscription(scope, subscription_id)
    if subscription.scheduled_plan_change_id is None:
        return None
    return await PlanChange.get_or_none(
        id=subscription.scheduled_plan_change_id, status=PlanChangeStatus.SCHEDULED
    )


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
        _check_state(subscription)
        current, product = await _target(scope, subscription, product_id)
        preview = await _preview(scope, subscription, current, product)
        by_customer = scope.customer_id is not None
        if preview.terms.kind == PlanChangeKind.DOWNGRADE:
            return await _schedule(settings, subscription, current, product, preview, by_customer)
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


def _lost_race() -> InvalidState:
    return InvalidState(
        "The subscription changed meanwhile (another plan change, a cancellation or a "
        "payment). Look at it again.",
        field=["subscriptionId"],
        retryable=True,
    )


def _claimable(subscription: Subscription) -> dict[str, Any]:
    """What must still hold when a change takes its subscription (a conditional update: of
    concurrent changes and cancellations exactly one wins)."""
    return {
        "id": subscription.id,
        "status": SubscriptionStatus.ACTIVE,
        "product_id": subscription.product_id,
        "next_billing_date": subscription.next_billing_date,
        "cancel_at_next_billing_date": False,
        "charging_payment_id__isnull": True,
        "scheduled_plan_change_id__isnull": True,
    }


async def _schedule(
    settings: Settings,
    subscription: Subscription,
    current: Product,
    product: Product,
    preview: PlanChangePreview,
    by_customer: bool,
) -> PlanChangeResult:
    at = now()
    async with in_transaction():
        change = await PlanChange.create(
            business_id=subscription.business_id,
            mode=subscription.mode,
            subscription_id=subscription.id,
            customer_id=subscription.customer_id,
            kind=PlanChangeKind.DOWNGRADE,
            status=PlanChangeStatus.SCHEDULED,
            from_product_id=current.id,
            to_product_id=product.id,
            effective_at=preview.terms.effective_at,
            requested_by_customer=by_customer,
            currency=subscription.currency,
        )
        taken = await Subscription.filter(**_claimable(subscription)).update(
            scheduled_plan_change_id=change.id, updated_at=at
        )
        if taken != 1:
            raise _lost_race()  # rolls the change back
        await subscription.refresh_from_db()
        await plan_change_event("subscription.plan_change_scheduled", subscription, change)
        if by_customer:
            await send_plan_change(settings, subscription, change, current, product)
    notify_worker()
    return PlanChangeResult(subscription, plan_change=change)


async def cancel_plan_change(
    settings: Settings, scope: Scope, subscription_id: str
) -> PlanChangeResult:
    subscription = await get_subscription(scope, subscription_id)
    change_id = subscription.scheduled_plan_change_id
    if change_id is None:
        raise InvalidState(
            "No plan change is scheduled for this subscription.", field=["subscriptionId"]
        )
    at = now()
    async with in_transaction():
        taken = await Subscription.filter(
            id=subscription.id, scheduled_plan_change_id=change_id
        ).update(scheduled_plan_change_id=None, updated_at=at)
        if taken != 1:
            raise _lost_race()
        await PlanChange.filter(id=change_id).update(
            status=PlanChangeStatus.CANCELLED, cancelled_at=at
        )
        change = await PlanChange.get(id=change_id)
        await subscription.refresh_from_db()
        await plan_change_event("subscription.plan_change_cancelled", subscription, change)
        if scope.customer_id is not None:
            current = await Product.get(id=change.from_product_id)
            product = await Product.get(id=change.to_product_id)
            await send_plan_change(settings, subscription, change, current, product)
    notify_worker()
    return PlanChangeResult(subscription, plan_change=change)


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
            taken = await Subscription.filter(**_claimable(subscription)).update(
                **_new_plan(product, terms), updated_at=at
            )
            if taken != 1:
                raise _lost_race()
            await subscription.refresh_from_db()
            await plan_change_event("subscription.plan_changed", subscription, change)
            if by_customer:
                await send_plan_change(settings, subscription, change, current, product)
        notify_worker()
        return PlanChangeResult(subscription, plan_change=change)

    assert method is not None and gateway is not None
    async with in_transaction():
        taken = await Subscription.filter(**_claimable(subscription)).update(
            charging_payment_id=payment_id
        )
        if taken != 1:
            raise _lost_race()
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


async def apply_scheduled_change(subscription: Subscription, at: datetime) -> Subscription:
    """At the period end, before the renewal is charged: a scheduled downgrade puts the
    subscription on its new plan (price, interval, product), so that the renewal charges it."""
    change_id = subscription.scheduled_plan_change_id
    if change_id is None or subscription.next_billing_date is None:
        return subscription
    if subscription.next_billing_date > at:
        return subscription
    change = await PlanChange.get(id=change_id)
    product = await Product.get(id=change.to_product_id)
    assert product.interval is not None
    async with in_transaction():
        taken = await Subscription.filter(
            id=subscription.id,
            scheduled_plan_change_id=change_id,
            status=SubscriptionStatus.ACTIVE,
            charging_payment_id__isnull=True,
        ).update(
            product_id=product.id,
            price_amount=product.price_amount,
            interval=product.interval,
            interval_count=product.interval_count or 1,
            scheduled_plan_change_id=None,
            updated_at=at,
        )
        if taken == 1:
            await PlanChange.filter(id=change_id).update(
                status=PlanChangeStatus.APPLIED, applied_at=at
            )
            await change.refresh_from_db()
            await subscription.refresh_from_db()
            await plan_change_event("subscription.plan_changed", subscription, change)
    await subscription.refresh_from_db()
    return subscription


async def drop_scheduled_change(subscription_id: str, at: datetime) -> None:
    """The subscription ended: a downgrade scheduled for it will not happen. Call inside the
    transaction that ends it."""
    await PlanChange.filter(
        subscription_id=subscription_id, status=PlanChangeStatus.SCHEDULED
    ).update(status=PlanChangeStatus.CANCELLED, cancelled_at=at)
    await Subscription.filter(id=subscription_id).update(scheduled_plan_change_id=None)
