"""Pause, resume and come back, as customers and merchants use them: a paused subscription is not
renewed by the billing run, its license keys are suspended once the paid period is over, and a
resume starts a new period (charged once) or keeps the paid one; a cancelled subscription is
restarted on the same plan, charged at once, once per idempotency key. A pause and a
cancellation that arrive together leave one consistent outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from test_portal_settings import CANCEL, PAUSE, RESTART, RESUME, set_settings, state

from conftest import Portal
from models import OutboxMessage, Payment, WebhookEvent
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    GraphQLClient,
    MailCatcher,
    card,
    create_customer,
    create_product,
    deliver_mail,
    session_for,
    subscribe,
)

RUN_BILLING = "mutation { runBillingCycle { renewedCount failedCount endedCount } }"
KEYS = "{ me { licenseKeys(first: 10) { edges { node { id key status } } } } }"
VALIDATE = """mutation($input: ValidateLicenseKeyInput!) { validateLicenseKey(input: $input) {
  valid userErrors { code } } }"""


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def payments(sub_id: str) -> int:
    return await Payment.filter(subscription_id=sub_id).count()


async def key_status(gql: GraphQLClient, token: str) -> str:
    edges = (await gql(KEYS, token=token))["me"]["licenseKeys"]["edges"]
    return str(edges[0]["node"]["status"])


async def setup(
    gql: GraphQLClient, key: str, email: str = "ada@example.com"
) -> tuple[str, str, str]:
    await set_settings(gql, key, customersMayPause=True, customersMayRestart=True)
    customer_id = await create_customer(gql, key, email)
    product_id = await create_product(gql, key, amount=1500, licenseKeyEnabled=True)
    result = await subscribe(gql, key, customer_id, product_id)
    assert result["userErrors"] == [], result
    return customer_id, product_id, result["subscription"]["id"]


async def test_pause_now_then_billing_run_charges_nothing_then_resume_renews(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))
    customer_id, _, sub_id = await setup(gql, key)
    token = await session_for(gql, key, customer_id)
    paid_until = at((await state(gql, key, sub_id))["nextBillingDate"])
    assert paid_until == datetime(2027, 2, 10, 9, 0, tzinfo=UTC)

    data = await gql(PAUSE, {"input": {"subscriptionId": sub_id}}, token)
    paused = data["pauseSubscription"]["subscription"]
    assert paused["status"] == "PAUSED"
    assert at(paused["pausedAt"]) == clock.now()
    assert at(paused["nextBillingDate"]) == paid_until
    # Paid for until then: the key keeps working.
    assert await key_status(gql, token) == "ACTIVE"

    # Past the paid period the billing run charges nothing and the key is suspended.
    clock.advance(timedelta(days=40))
    token = await session_for(gql, key, customer_id)
    assert (await gql(RUN_BILLING, token=key))["runBillingCycle"]["renewedCount"] == 0
    assert await payments(sub_id) == 1
    assert (await state(gql, key, sub_id))["status"] == "PAUSED"
    assert await key_status(gql, token) == "DISABLED"
    license_key = (await gql(KEYS, token=token))["me"]["licenseKeys"]["edges"][0]["node"]["key"]
    checked = await gql(VALIDATE, {"input": {"key": license_key}})
    assert checked["validateLicenseKey"]["valid"] is False

    # Resumed after the paid period: a new period from now, charged at once.
    resumed_at = clock.now()
    data = await gql(RESUME, {"input": {"subscriptionId": sub_id}}, token)
    assert data["resumeSubscription"]["userErrors"] == []
    after = await state(gql, key, sub_id)
    assert after["status"] == "ACTIVE" and after["pausedAt"] is None
    assert at(after["nextBillingDate"]) == datetime(2027, 3, 19, 9, 0, tzinfo=UTC)
    assert at(after["nextBillingDate"]) == resumed_at.replace(month=resumed_at.month + 1)
    assert await payments(sub_id) == 2
    assert await key_status(gql, token) == "ACTIVE"
    # Nothing more is due until then.
    assert (await gql(RUN_BILLING, token=key))["runBillingCycle"]["renewedCount"] == 0
    assert await payments(sub_id) == 2

    types = [
        e.type
        async for e in WebhookEvent.filter(business_id=acme.business.id).order_by("created_at")
    ]
    assert "subscription.paused" in types and "subscription.resumed" in types
    assert types.index("subscription.paused") < types.index("subscription.resumed")
    paused_event = await WebhookEvent.get(business_id=acme.business.id, type="subscription.paused")
    assert paused_event.payload["data"]["status"] == "paused"
    assert paused_event.payload["data"]["paused_at"] == "2027-01-10T09:00:00+00:00"
    topics = await OutboxMessage.filter(business_id=acme.business.id).values_list(
        "topic", flat=True
    )
    assert "subscription_paused" in topics and "subscription_resumed" in topics
    await deliver_mail(portal.settings)
    subjects = [m["Subject"] for m in smtp.to("ada@example.com")]
    assert any("is paused" in s for s in subjects), subjects
    assert any("has resumed" in s for s in subjects), subjects


async def test_resume_within_the_paid_period_keeps_the_dates(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))
    _, _, sub_id = await setup(gql, key)
    before = await state(gql, key, sub_id)
    await gql(PAUSE, {"input": {"subscriptionId": sub_id}}, key)
    clock.advance(timedelta(days=5))
    data = await gql(RESUME, {"input": {"subscriptionId": sub_id}}, key)
    assert (
        data["resumeSubscription"]["subscription"]["nextBillingDate"] == before["nextBillingDate"]
    )
    assert await payments(sub_id) == 1


async def test_pause_at_period_end_and_resume_on_a_date(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))
    customer_id, _, sub_id = await setup(gql, key)
    token = await session_for(gql, key, customer_id)
    resume_on = datetime(2027, 4, 1, 0, 0, tzinfo=UTC)

    # A resume date within the period is refused and changes nothing.
    early = {"subscriptionId": sub_id, "atPeriodEnd": True, "resumeAt": "2027-02-01T00:00:00Z"}
    data = await gql(PAUSE, {"input": early}, token)
    assert [e["code"] for e in data["pauseSubscription"]["userErrors"]] == ["INVALID_DATE"]
    assert (await state(gql, key, sub_id))["pauseAtNextBillingDate"] is False

    sent = {"subscriptionId": sub_id, "atPeriodEnd": True, "resumeAt": resume_on.isoformat()}
    data = await gql(PAUSE, {"input": sent}, token)
    assert data["pauseSubscription"]["userErrors"] == []
    assert at(data["pauseSubscription"]["subscription"]["resumeAt"]) == resume_on

    # At the period end the billing run pauses it instead of renewing.
    clock.advance(timedelta(days=31, minutes=1))
    assert (await gql(RUN_BILLING, token=key))["runBillingCycle"]["renewedCount"] == 0
    paused = await state(gql, key, sub_id)
    assert paused["status"] == "PAUSED" and await payments(sub_id) == 1
    clock.advance(timedelta(days=30))
    assert (await gql(RUN_BILLING, token=key))["runBillingCycle"]["renewedCount"] == 0
    assert await payments(sub_id) == 1

    # On its date the billing run resumes it and charges the new period from then.
    clock.freeze(resume_on + timedelta(hours=1))
    assert (await gql(RUN_BILLING, token=key))["runBillingCycle"]["renewedCount"] == 1
    after = await state(gql, key, sub_id)
    assert after["status"] == "ACTIVE" and after["resumeAt"] is None
    assert at(after["nextBillingDate"]) == datetime(2027, 5, 1, 1, 0, tzinfo=UTC)
    assert await payments(sub_id) == 2
    await deliver_mail(portal.settings)
    bodies = [m.get_body(("plain",)).get_content() for m in smtp.to("ada@example.com")]  # type: ignore[union-attr]
    assert any("will pause on" in b for b in bodies)


async def test_restart_after_cancellation_charges_once_per_key(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id, product_id, sub_id = await setup(gql, key)
    token = await session_for(gql, key, customer_id)
    data = await gql(CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": False}}, token)
    assert data["cancelSubscription"]["subscription"]["status"] == "CANCELLED"

    # A declined new card: a FAILED subscription, nothing else changes.
    declined = {"subscriptionId": sub_id, "card": card("4000000000000002")}
    data = (await gql(RESTART, {"input": declined}, token))["restartSubscription"]
    assert [e["code"] for e in data["userErrors"]] == ["CARD_DECLINED"]
    assert data["subscription"]["status"] == "FAILED"
    assert (await state(gql, key, sub_id))["status"] == "CANCELLED"

    # A new card, with an idempotency key: charged once however often it is sent.
    sent = {"subscriptionId": sub_id, "card": card("5555555555554444"), "idempotencyKey": "back-1"}
    first, again = [
        (await gql(RESTART, {"input": sent}, token))["restartSubscription"] for _ in range(2)
    ]
    assert first["userErrors"] == [] and first["subscription"]["status"] == "ACTIVE"
    assert again["subscription"]["id"] == first["subscription"]["id"]
    assert again["payment"]["id"] == first["payment"]["id"]
    assert first["payment"]["amount"]["amount"] == 1500
    assert first["subscription"]["product"]["id"] == product_id
    assert first["subscription"]["paymentMethod"] is not None
    assert await Payment.filter(customer_id=customer_id, status="succeeded").count() == 2

    # An active subscription is not restarted.
    active = {"subscriptionId": first["subscription"]["id"], "card": card("4242424242424242")}
    data = (await gql(RESTART, {"input": active}, token))["restartSubscription"]
    assert [e["code"] for e in data["userErrors"]] == ["INVALID_STATE"]


async def test_concurrent_pause_and_cancel_leave_one_outcome(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    await set_settings(gql, key, customersMayPause=True)
    product_id = await create_product(gql, key, amount=900)
    for round_ in range(4):
        customer_id = await create_customer(gql, key, f"c{round_}@example.com")
        sub_id = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
        token = await session_for(gql, key, customer_id)
        pause_input = {"input": {"subscriptionId": sub_id}}
        cancel_input = {"input": {"subscriptionId": sub_id, "atPeriodEnd": True}}
        pause, cancel = await asyncio.gather(
            gql(PAUSE, pause_input, token), gql(CANCEL, cancel_input, token)
        )
        paused = pause["pauseSubscription"]["userErrors"] == []
        cancelled = cancel["cancelSubscription"]["userErrors"] == []
        assert paused != cancelled, (pause, cancel)
        final = await state(gql, key, sub_id)
        if paused:
            assert final["status"] == "PAUSED" and final["cancelAtNextBillingDate"] is False
        else:
            assert final["status"] == "ACTIVE" and final["cancelAtNextBillingDate"] is True
            assert final["pausedAt"] is None


async def test_paused_subscription_cancelled_now(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id, _, sub_id = await setup(gql, key)
    token = await session_for(gql, key, customer_id)
    await gql(PAUSE, {"input": {"subscriptionId": sub_id}}, token)
    data = await gql(CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": False}}, token)
    assert data["cancelSubscription"]["subscription"]["status"] == "CANCELLED"
    data = await gql(RESUME, {"input": {"subscriptionId": sub_id}}, token)
    assert [e["code"] for e in data["resumeSubscription"]["userErrors"]] == ["INVALID_STATE"]


async def test_concurrent_pause_and_cancel_now_end_cancelled(
    portal: Portal, acme: NewBusiness
) -> None:
    """A pause and an immediate cancellation together: whichever comes first, the subscription
    ends CANCELLED, never PAUSED, and nothing is charged."""
    gql, key = portal.gql, acme.test_api_key
    await set_settings(gql, key, customersMayPause=True)
    product_id = await create_product(gql, key, amount=900)
    for round_ in range(3):
        customer_id = await create_customer(gql, key, f"n{round_}@example.com")
        sub_id = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
        token = await session_for(gql, key, customer_id)
        pause, cancel = await asyncio.gather(
            gql(PAUSE, {"input": {"subscriptionId": sub_id}}, token),
            gql(CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": False}}, token),
        )
        assert cancel["cancelSubscription"]["userErrors"] == [], cancel
        if pause["pauseSubscription"]["userErrors"]:
            assert pause["pauseSubscription"]["userErrors"][0]["code"] == "INVALID_STATE"
        final = await state(gql, key, sub_id)
        assert final["status"] == "CANCELLED"
        assert await payments(sub_id) == 1
