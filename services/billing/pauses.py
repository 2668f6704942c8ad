"""Pausing and resuming subscriptions.

The rule (README, "Pauses, resumes and restarts"): pausing never takes away paid time and never
adds any. A PAUSED subscription is not renewed; its `nextBillingDate` stays the end of the
period that was paid for. Its license keys stay ACTIVE until then and are DISABLED (suspended)
from then until it resumes. Resuming before that date changes no date; resuming after it
starts a new period at the moment of the resume (it is charged at once, by the resume itself or
by the billing run that resumes it on its date), so the next renewal is one interval later.

Each change is one conditional update: of a pause and a cancellation (or two pauses) that
arrive together, one wins and the other finds the subscription changed (INVALID_STATE)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import Product, Subscription, SubscriptionStatus
from models.clock import now
from services.billing.notifications import send_paused, send_resumed
from services.billing.subscriptions import get_subscription
from services.errors import InvalidState, ServiceError
from services.events import subscription_event
from services.outbox import notify_worker
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings


def _resume_date(resume_at: datetime | None, at: datetime) -> datetime | None:
    """None: no date (resume only when asked); else a date that must lie ahead."""
    if resume_at is None:
        return None
    if resume_at.tzinfo is None:
        raise ServiceError("resumeAt needs a time zone.", code="BAD_USER_INPUT", field=["resumeAt"])
    if resume_at <= at:
        raise ServiceError(
            "resumeAt must be in the future.", code="INVALID_DATE", field=["resumeAt"]
        )
    return resume_at


async def pause_subscription(
    settings: Settings,
    scope: Scope,
    subscription_id: str,
    *,
    at_period_end: bool,
    resume_at: datetime | None,
    notify_customer: bool,
) -> Subscription:
    """Now: PAUSED at once. At period end: it pauses at its next billing date instead of
    renewing (the billing run does it). `resume_at`: when it resumes by itself."""
    subscription = await get_subscription(scope, subscription_id)
    at = now()
    resume_at = _resume_date(resume_at, at)
    period_end = subscription.next_billing_date
    if (
        resume_at is not None
        and at_period_end
        and period_end is not None
        and resume_at <= period_end
    ):
        raise ServiceError(
            "resumeAt must be after the end of the period.",
            code="INVALID_DATE",
            field=["resumeAt"],
        )
    running = {
        "id": subscription.id,
        "status": SubscriptionStatus.ACTIVE,
        "cancel_at_next_billing_date": False,
        "charging_payment_id__isnull": True,
    }
    async with in_transaction():
        if at_period_end:
            changed = await Subscription.filter(**running).update(
                pause_at_next_billing_date=True, resume_at=resume_at, updated_at=at
            )
        else:
            changed = await Subscription.filter(**running).update(
                status=SubscriptionStatus.PAUSED,
                paused_at=at,
                pause_at_next_billing_date=False,
                resume_at=resume_at,
                updated_at=at,
            )
        if changed != 1:
            raise InvalidState(
                "Only an active subscription that is not set to end can be paused.",
                field=["subscriptionId"],
            )
        await subscription.refresh_from_db()
        if notify_customer:
            product = await Product.get(id=subscription.product_id)
            await send_paused(settings, subscription, product)
        await subscription_event(
            "subscription.updated" if at_period_end else "subscription.paused", subscription
        )
    notify_worker()
    return subscription


async def resume_subscription(
    settings: Settings,
    scope: Scope,
    subscription_id: str,
    *,
    resume_at: datetime | None,
    notify_customer: bool,
) -> Subscription:
    """Now (no `resume_at`): a PAUSED subscription is ACTIVE again (and charged at once when
    its paid period is over); a pause set for the period end is called off. On a date: the
    PAUSED subscription resumes then (the billing run does it)."""
    subscription = await get_subscription(scope, subscription_id)
    at = now()
    resume_at = _resume_date(resume_at, at)
    if subscription.status == SubscriptionStatus.ACTIVE and subscription.pause_at_next_billing_date:
        if resume_at is not None:
            # Pauses at period end, resumes on that date.
            return await _set_resume_date(subscription, resume_at, SubscriptionStatus.ACTIVE)
        async with in_transaction():
            changed = await Subscription.filter(
                id=subscription.id,
                status=SubscriptionStatus.ACTIVE,
                pause_at_next_billing_date=True,
            ).update(pause_at_next_billing_date=False, resume_at=None, updated_at=at)
            if changed != 1:
                raise _not_paused()
            await subscription.refresh_from_db()
            await subscription_event("subscription.updated", subscription)
        return subscription
    if subscription.status != SubscriptionStatus.PAUSED:
        raise _not_paused()
    if resume_at is not None:
        return await _set_resume_date(subscription, resume_at, SubscriptionStatus.PAUSED)
    resumed = await _resume(settings, subscription, notify_customer=notify_customer)
    if not resumed:
        raise _not_paused()
    await renew_if_due(settings, subscription)
    await subscription.refresh_from_db()
    return subscription


def _not_paused() -> InvalidState:
    return InvalidState(
        "Only a paused subscription (or one set to pause) can be resumed.",
        field=["subscriptionId"],
    )


async def _set_resume_date(
    subscription: Subscription, resume_at: datetime, status: SubscriptionStatus
) -> Subscription:
    async with in_transaction():
        changed = await Subscription.filter(id=subscription.id, status=status).update(
            resume_at=resume_at, updated_at=now()
        )
        if changed != 1:
            raise _not_paused()
        await subscription.refresh_from_db()
        await subscription_event("subscription.updated", subscription)
    return subscription


async def _resume(settings: Settings, subscription: Subscription, *, notify_customer: bool) -> bool:
    """PAUSED → ACTIVE, in one conditional update. A paid period still running keeps its
    dates; one that is over gives way to a new period from now (due at once)."""
    at = now()
    paid_until = subscription.next_billing_date
    next_billing = paid_until if paid_until is not None and paid_until > at else at
    async with in_transaction():
        changed = await Subscription.filter(
            id=subscription.id, status=SubscriptionStatus.PAUSED
        ).update(
            status=SubscriptionStatus.ACTIVE,
            paused_at=None,
            resume_at=None,
            next_billing_date=next_billing,
            updated_at=at,
        )
        if changed != 1:
            return False
        await subscription.refresh_from_db()
        if notify_customer:
            product = await Product.get(id=subscription.product_id)
            await send_resumed(settings, subscription, product)
        await subscription_event("subscription.resumed", subscription)
    notify_worker()
    return True


async def renew_if_due(settings: Settings, subscription: Subscription) -> None:
    """A subscription resumed after its paid period is charged for the new one at once."""
    from services.billing.renewals import renew_subscription

    await subscription.refresh_from_db()
    if (
        subscription.status == SubscriptionStatus.ACTIVE
        and subscription.next_billing_date is not None
        and subscription.next_billing_date <= now()
    ):
        await renew_subscription(settings, subscription)


async def resume_due_subscriptions(settings: Settings, scope: Scope | None = None) -> int:
    """For the billing run: PAUSED subscriptions whose resume date has come are ACTIVE again
    (the renewals that follow in the same run charge those whose paid period is over)."""
    query = Subscription.filter(status=SubscriptionStatus.PAUSED, resume_at__lte=now())
    if scope is not None:
        query = query.filter(business_id=scope.business_id, mode=scope.mode)
    resumed = 0
    for subscription in await query.order_by("resume_at", "id"):
        if await _resume(settings, subscription, notify_customer=True):
            resumed += 1
    return resumed


async def pause_at_period_end(subscription: Subscription) -> bool:
    """For the billing run: a subscription set to pause at its billing date is PAUSED instead
    of renewed. False when another worker (or a change of mind) got there first."""
    at = now()
    async with in_transaction():
        paused = await Subscription.filter(
            id=subscription.id,
            status=SubscriptionStatus.ACTIVE,
            pause_at_next_billing_date=True,
            charging_payment_id__isnull=True,
        ).update(
            status=SubscriptionStatus.PAUSED,
            paused_at=at,
            pause_at_next_billing_date=False,
            updated_at=at,
        )
        if paused:
            await subscription.refresh_from_db()
            await subscription_event("subscription.paused", subscription)
    return bool(paused)
