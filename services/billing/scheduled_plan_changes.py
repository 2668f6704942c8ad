"""Downgrades scheduled for the period end: made, taken back, applied by the renewal run, or
dropped when the subscription ends."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import (
    PlanChange,
    PlanChangeKind,
    PlanChangeStatus,
    Product,
    Subscription,
    SubscriptionStatus,
)
from models.clock import now
from services.billing.notifications import send_plan_change
from services.billing.subscriptions import get_subscription
from services.errors import InvalidState
from services.events import plan_change_event
from services.outbox import notify_worker
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings


from services.billing.plan_checks import PlanChangePreview, PlanChangeResult, claimable, lost_race


async def scheduled_change(scope: Scope, subscription_id: str) -> PlanChange | None:
    subscription = await get_subscription(scope, subscription_id)
    if subscription.scheduled_plan_change_id is None:
        return None
    return await PlanChange.get_or_none(
        id=subscription.scheduled_plan_change_id, status=PlanChangeStatus.SCHEDULED
    )


async def schedule_downgrade(
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
        taken = await Subscription.filter(**claimable(subscription)).update(
            scheduled_plan_change_id=change.id, updated_at=at
        )
        if taken != 1:
            raise lost_race()  # rolls the change back
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
            raise lost_race()
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
