"""The billing services on their own, where the logic is: charging a first period, dunning
(a failed renewal puts a subscription ON_HOLD; a new card pays what is owed and brings it
back), renewals (due ones only, once, ended ones without a charge) and settlement of a payment
interrupted between the gateway and its record. The end-to-end tests in tests/e2e show the same
stories through GraphQL; these call the services with a Scope on a real database (SQLite and
PostgreSQL), so a failure points at the service, not at the layers above it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from models import (
    Invoice,
    InvoiceStatus,
    Mode,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
    TimeInterval,
)
from models.clock import clock, now
from services.billing.charging import CardInput
from services.billing.dunning import update_payment_method
from services.billing.products import create_product
from services.billing.renewals import renew_due_subscriptions
from services.billing.settlement import settle_stale_payments
from services.billing.subscriptions import create_subscription, update_subscription
from services.businesses import NewBusiness
from services.customers import create_customer
from services.payments.cards import RawCard
from services.payments.gateway import TestGateway
from services.scope import Scope
from services.settings import Settings

GOOD = "4242424242424242"
DECLINED = "4000000000000002"
CHARGES_DECLINED = "4000000000000341"  # saves fine, every charge declined


def raw(number: str) -> CardInput:
    return CardInput(card=RawCard(number=number, exp_month=12, exp_year=2034, cvc="123"))


async def plan(scope: Scope, amount: int = 1900) -> str:
    product = await create_product(
        scope,
        name="Pro",
        description=None,
        price_amount=amount,
        currency="EUR",
        interval=TimeInterval.MONTH,
        interval_count=1,
    )
    return product.id


async def subscribed(settings: Settings, scope: Scope, email: str, number: str = GOOD) -> str:
    customer = await create_customer(scope, email=email)
    result = await create_subscription(
        settings,
        scope,
        "merchant",
        customer_id=customer.id,
        product_id=await plan(scope),
        card=raw(number),
        idempotency_key=None,
    )
    assert result.subscription is not None
    return result.subscription.id


async def make_due(scope: Scope, subscription_id: str) -> None:
    await update_subscription(
        scope, subscription_id, next_billing_date=now() + timedelta(seconds=1)
    )
    clock.advance(timedelta(seconds=2))


async def put_on_hold(settings: Settings, scope: Scope, email: str) -> str:
    """Subscribed with a good card, switched to one whose charges fail, then renewed."""
    subscription_id = await subscribed(settings, scope, email)
    switched = await update_payment_method(
        settings,
        scope,
        "merchant",
        subscription_id=subscription_id,
        card=raw(CHARGES_DECLINED),
        idempotency_key=None,
    )
    assert switched.error is None
    await make_due(scope, subscription_id)
    assert (await renew_due_subscriptions(settings, scope)).failed == 1
    return subscription_id


@pytest.fixture
def scope(acme: NewBusiness) -> Scope:
    return Scope(acme.business.id, Mode.TEST)


async def test_a_first_charge_activates_and_a_declined_one_leaves_nothing_behind(
    settings: Settings, scope: Scope
) -> None:
    customer = await create_customer(scope, email="ann@example.com")
    product_id = await plan(scope, amount=2500)

    declined = await create_subscription(
        settings, scope, "merchant", customer_id=customer.id, product_id=product_id,
        card=raw(DECLINED), idempotency_key=None,
    )  # fmt: skip
    assert declined.error is not None and declined.error.code == "CARD_DECLINED"
    assert declined.payment is not None and declined.payment.status == PaymentStatus.FAILED
    assert await PaymentMethod.filter(customer_id=customer.id).count() == 0
    assert (
        await Subscription.filter(customer_id=customer.id, status=SubscriptionStatus.ACTIVE).count()
        == 0
    )

    paid = await create_subscription(
        settings, scope, "merchant", customer_id=customer.id, product_id=product_id,
        card=raw(GOOD), idempotency_key=None,
    )  # fmt: skip
    assert paid.error is None
    assert paid.subscription is not None and paid.subscription.status == SubscriptionStatus.ACTIVE
    assert paid.payment is not None and paid.payment.status == PaymentStatus.SUCCEEDED
    assert paid.payment.amount == 2500
    assert paid.invoice is not None and paid.invoice.status == InvoiceStatus.PAID
    assert paid.invoice.total_amount == 2500
    [method] = await PaymentMethod.filter(customer_id=customer.id)
    assert (method.last4, paid.subscription.payment_method_id) == ("4242", method.id)


async def test_a_failed_renewal_holds_and_a_new_card_pays_what_is_owed_once(
    settings: Settings, scope: Scope
) -> None:
    subscription_id = await put_on_hold(settings, scope, "bob@example.com")
    held = await Subscription.get(id=subscription_id)
    assert held.status == SubscriptionStatus.ON_HOLD
    [owed] = await Invoice.filter(subscription_id=subscription_id, status=InvoiceStatus.OPEN)

    # A card that declines again changes nothing but records the failed attempt.
    again = await update_payment_method(
        settings, scope, "merchant", subscription_id=subscription_id, card=raw(DECLINED),
        idempotency_key=None,
    )  # fmt: skip
    assert again.error is not None and again.error.code == "CARD_DECLINED"
    assert (await Subscription.get(id=subscription_id)).status == SubscriptionStatus.ON_HOLD

    revived = await update_payment_method(
        settings, scope, "merchant", subscription_id=subscription_id, card=raw(GOOD),
        idempotency_key="revive-1",
    )  # fmt: skip
    assert revived.error is None
    assert revived.payment is not None and revived.payment.amount == owed.total_amount
    assert revived.subscription is not None
    assert revived.subscription.status == SubscriptionStatus.ACTIVE
    assert (await Invoice.get(id=owed.id)).status == InvoiceStatus.PAID

    # The same request again (a reloaded page) replays the answer, charging nothing more.
    replay = await update_payment_method(
        settings, scope, "merchant", subscription_id=subscription_id, card=raw(GOOD),
        idempotency_key="revive-1",
    )  # fmt: skip
    assert replay.payment is not None and replay.payment.id == revived.payment.id
    succeeded = await Payment.filter(
        subscription_id=subscription_id, status=PaymentStatus.SUCCEEDED
    ).count()
    assert succeeded == 2  # the first period and the reactivation


async def test_renewals_charge_what_is_due_once_and_end_what_was_cancelled(
    settings: Settings, scope: Scope
) -> None:
    due = await subscribed(settings, scope, "cy@example.com")
    not_due = await subscribed(settings, scope, "di@example.com")
    ending = await subscribed(settings, scope, "ed@example.com")
    await update_subscription(scope, ending, cancel_at_next_billing_date=True)
    billing_date = now() + timedelta(seconds=1)
    for subscription_id in (due, ending):
        await update_subscription(scope, subscription_id, next_billing_date=billing_date)
    clock.advance(timedelta(seconds=2))

    summaries = await asyncio.gather(
        renew_due_subscriptions(settings, scope), renew_due_subscriptions(settings, scope)
    )
    assert sum(s.renewed for s in summaries) == 1
    assert sum(s.ended for s in summaries) == 1
    assert sum(s.failed for s in summaries) == 0
    renewed = await Subscription.get(id=due)
    assert renewed.next_billing_date is not None and renewed.next_billing_date > now()
    assert await Payment.filter(subscription_id=due).count() == 2
    assert await Payment.filter(subscription_id=not_due).count() == 1
    assert (await Subscription.get(id=ending)).status == SubscriptionStatus.CANCELLED
    assert await Payment.filter(subscription_id=ending).count() == 1
    assert (await renew_due_subscriptions(settings, scope)).renewed == 0


async def _interrupted(*args: Any, **kwargs: Any) -> Any:
    raise asyncio.CancelledError  # the process stops between the gateway and the record


async def test_an_interrupted_renewal_is_settled_once_when_it_is_stale(
    settings: Settings, scope: Scope, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription_id = await subscribed(settings, scope, "fay@example.com")
    await make_due(scope, subscription_id)
    monkeypatch.setattr(TestGateway, "charge", _interrupted)
    with pytest.raises(asyncio.CancelledError):
        await renew_due_subscriptions(settings, scope)
    monkeypatch.undo()
    [stuck] = await Payment.filter(subscription_id=subscription_id, status=PaymentStatus.PROCESSING)
    # Claimed while unsettled: the next run does not charge it a second time.
    assert (await renew_due_subscriptions(settings, scope)).renewed == 0
    assert await settle_stale_payments(settings) == 0  # not stale yet

    clock.advance(timedelta(minutes=11))
    assert await settle_stale_payments(settings) == 1
    assert await settle_stale_payments(settings) == 0
    assert (await Payment.get(id=stuck.id)).status == PaymentStatus.SUCCEEDED
    subscription = await Subscription.get(id=subscription_id)
    assert (subscription.status, subscription.charging_payment_id) == (
        SubscriptionStatus.ACTIVE,
        None,
    )
    assert (
        await Invoice.filter(subscription_id=subscription_id, status=InvoiceStatus.PAID).count()
        == 2
    )
