"""A crash between the gateway call and step three leaves a payment PROCESSING; settlement asks
the gateway again with the same idempotency key and finishes what the request started."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import Portal
from models import Payment, PaymentStatus, Subscription
from models.clock import clock
from services.billing.renewals import renew_due_subscriptions
from services.billing.settlement import settle_stale_payments
from services.businesses import NewBusiness
from services.payments.gateway import TestGateway
from support import CREATE_SUBSCRIPTION, card, create_customer, create_product, subscribe

STATE = """
query($id: ID!) { subscription(id: $id) { status nextBillingDate outstandingAmount { amount } } }
"""


async def _crash(*args: Any, **kwargs: Any) -> Any:
    raise asyncio.CancelledError  # the process is stopped mid-call


async def interrupted_renewal(
    portal: Portal, key: str, email: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A subscription whose renewal was stopped between the gateway's charge and its record
    (the process killed mid-call): its payment is left PROCESSING. Returns its id."""
    gql = portal.gql
    customer_id = await create_customer(gql, key, email)
    product_id = await create_product(gql, key, amount=1200)
    subscription_id = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await gql(
        "mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i)"
        " { userErrors { code } } }",
        {"i": {"subscriptionId": subscription_id, "nextBillingDate": past}},
        token=key,
    )
    monkeypatch.setattr(TestGateway, "charge", _crash)
    with pytest.raises(asyncio.CancelledError):
        await renew_due_subscriptions(portal.settings)
    monkeypatch.undo()
    return str(subscription_id)


async def test_renewal_interrupted_after_the_charge_is_settled_once(
    portal: Portal, acme: NewBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    gql, key = portal.gql, acme.test_api_key
    subscription_id = await interrupted_renewal(portal, key, "cy@example.com", monkeypatch)
    [stuck] = await Payment.filter(subscription_id=subscription_id, status=PaymentStatus.PROCESSING)

    # While it is unsettled, another billing run does not charge the subscription again.
    cycle = await gql("mutation { runBillingCycle { renewedCount failedCount } }", token=key)
    assert cycle["runBillingCycle"] == {"renewedCount": 0, "failedCount": 0}
    assert await settle_stale_payments(portal.settings) == 0  # not stale yet

    clock.advance(timedelta(minutes=11))
    assert await settle_stale_payments(portal.settings) == 1
    assert await settle_stale_payments(portal.settings) == 0
    settled = await Payment.get(id=stuck.id)
    assert settled.status == PaymentStatus.SUCCEEDED
    state = (await gql(STATE, {"id": subscription_id}, token=key))["subscription"]
    assert state["status"] == "ACTIVE"
    assert state["outstandingAmount"]["amount"] == 0
    assert datetime.fromisoformat(state["nextBillingDate"]) > datetime.now(UTC)
    assert (await Subscription.get(id=subscription_id)).charging_payment_id is None
    assert await Payment.filter(subscription_id=subscription_id).count() == 2


async def test_two_settlers_at_once_settle_and_count_a_payment_once(
    portal: Portal, acme: NewBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' schedulers find the same stale payment: one records it, the other finds
    it recorded; their counts add up to one, and the customer is charged and mailed once."""
    subscription_id = await interrupted_renewal(
        portal, acme.test_api_key, "cyd@example.com", monkeypatch
    )

    clock.advance(timedelta(minutes=11))
    counts = await asyncio.gather(
        settle_stale_payments(portal.settings), settle_stale_payments(portal.settings)
    )
    assert sorted(counts) == [0, 1]
    payments = await Payment.filter(subscription_id=subscription_id).order_by("created_at")
    assert [payment.status for payment in payments] == [PaymentStatus.SUCCEEDED] * 2


async def test_first_charge_with_an_inline_card_interrupted_is_failed_cleanly(
    portal: Portal, acme: NewBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "di@example.com")
    product_id = await create_product(gql, key, amount=1200)
    monkeypatch.setattr(TestGateway, "charge_new_card", _crash)
    with pytest.raises(asyncio.CancelledError):
        await gql(
            CREATE_SUBSCRIPTION,
            {
                "input": {
                    "customerId": customer_id,
                    "productId": product_id,
                    "card": card("4242424242424242"),
                }
            },
            token=key,
        )
    monkeypatch.undo()
    [stuck] = await Payment.filter(customer_id=customer_id)
    assert stuck.status == PaymentStatus.PROCESSING

    clock.advance(timedelta(minutes=11))
    assert await settle_stale_payments(portal.settings) == 1
    settled = await Payment.get(id=stuck.id)
    # The inline card was never kept, so there is nothing to ask the gateway with.
    assert settled.status == PaymentStatus.FAILED
    assert settled.failure_code == "PROCESSING_ERROR"
    subscription = await Subscription.get(id=stuck.subscription_id)  # type: ignore[attr-defined]
    assert subscription.status.value == "failed" and subscription.charging_payment_id is None
