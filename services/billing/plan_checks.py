"""What every plan change checks and computes first: the subscription's state, the target
plan (same family, same currency), the preview (services/billing/proration.py's terms, the
invoice items and their VAT), and the conditions under which a change may take the
subscription."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import (
    PlanChange,
    PlanChangeKind,
    Product,
    Subscription,
    SubscriptionStatus,
)
from models.clock import now
from services.billing.charging import BillingResult
from services.billing.invoices import InvoiceItem, price_items
from services.billing.plan_families import plan_options
from services.billing.products import get_product
from services.billing.proration import Proration, plan_change_terms
from services.billing.subscriptions import get_subscription
from services.errors import InvalidState, ServiceError
from services.scope import Scope


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


async def target(
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


def check_state(subscription: Subscription) -> None:
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


def invoice_items(
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


async def preview_for(
    scope: Scope, subscription: Subscription, current: Product, product: Product
) -> PlanChangePreview:
    terms = plan_change_terms(subscription, product, now())
    items = invoice_items(subscription, current, product, terms)
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
    check_state(subscription)
    current, product = await target(scope, subscription, product_id)
    return await preview_for(scope, subscription, current, product)


def lost_race() -> InvalidState:
    return InvalidState(
        "The subscription changed meanwhile (another plan change, a cancellation or a "
        "payment). Look at it again.",
        field=["subscriptionId"],
        retryable=True,
    )


def claimable(subscription: Subscription) -> dict[str, Any]:
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
