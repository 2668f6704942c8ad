"""Stripe's webhooks over real HTTP: verified with the business's signing secret, each event
handled once, and a payment settled exactly once whichever arrives first, the webhook (even
delivered many times at once) or the customer's own confirmPayment."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from conftest import Portal
from models import GatewayEvent, Invoice, Payment, PaymentStatus, WebhookEvent
from services.businesses import NewBusiness
from support import MailCatcher, create_customer, create_product, deliver_mail

from .conftest import THREE_DS, WEBHOOK_SECRET, StripeLab
from .operations import confirm_payment, create_payment


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header as Stripe makes it: HMAC-SHA256 of "<t>.<body>"."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def event(event_id: str, intent: dict[str, Any], kind: str = "payment_intent.succeeded") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "api_version": "2017-08-15",
            "data": {"object": intent},
        }
    ).encode()


async def _until(check: Any, seconds: float = 8.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _waiting_payment(
    portal: Portal, acme: NewBusiness, stripe_lab: StripeLab, email: str
) -> dict[str, Any]:
    customer_id = await create_customer(portal.gql, acme.test_api_key, email)
    once = await create_product(portal.gql, acme.test_api_key, amount=4900, interval=None)
    started = await create_payment(
        portal, acme, customer_id, once, await stripe_lab.payment_method(THREE_DS)
    )
    assert started["payment"]["status"] == "REQUIRES_ACTION"
    return started


async def test_stripe_s_webhook_settles_the_payment_after_the_customer_authenticated(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    started = await _waiting_payment(portal, acme, stripe_lab, "ann@example.com")
    payment_id = started["payment"]["id"]
    await stripe_lab.authenticate(started["nextAction"]["clientSecret"])

    # Nobody calls confirmPayment: Stripe's payment_intent.succeeded (sent by localstripe to
    # our real HTTP endpoint a second later) settles it.
    async def settled() -> bool:
        return (await Payment.get(id=payment_id)).status == PaymentStatus.SUCCEEDED

    await _until(settled)
    invoice = await Invoice.get(id=started["invoice"]["id"])
    assert invoice.status.value == "paid"

    # The event is recorded as handled, right after the payment it settled (so it is waited
    # for, not read at once). Counting all of them would be racy: localstripe sends each event
    # a second late, so the previous test's may reach this test's endpoint after the
    # registration changed (acknowledged, recorded, ignored: not this business's).
    async def recorded() -> bool:
        return bool(
            await GatewayEvent.filter(
                business_id=acme.business.id, type="payment_intent.succeeded"
            ).exists()
        )

    await _until(recorded)
    kinds = await WebhookEvent.filter(business_id=acme.business.id).values_list("type", flat=True)
    assert kinds.count("payment.succeeded") == 1


async def test_twenty_deliveries_at_once_and_the_customer_s_return_settle_it_once(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, smtp: MailCatcher
) -> None:
    portal, acme = shop
    started = await _waiting_payment(portal, acme, stripe_lab, "bo@example.com")
    payment_id = started["payment"]["id"]
    await stripe_lab.authenticate(started["nextAction"]["clientSecret"])
    payment = await Payment.get(id=payment_id)
    intent = await stripe_lab.intent(str(payment.gateway_reference))
    body = event("evt_race_1", intent)
    url = f"/gateway/stripe/{acme.business.id}/webhook"

    async def deliver() -> int:
        response = await portal.http.post(
            url,
            content=body,
            headers={"Stripe-Signature": signed(body), "Content-Type": "application/json"},
        )
        return response.status_code

    answers = await asyncio.gather(
        *(deliver() for _ in range(20)),
        confirm_payment(portal, acme.test_api_key, payment_id),
    )
    assert answers[:20] == [200] * 20
    assert answers[20]["payment"]["status"] == "SUCCEEDED"

    # localstripe's own delivery of the same success comes a second later: also handled once.
    async def stripe_delivered() -> bool:
        return await GatewayEvent.filter(business_id=acme.business.id).count() == 2

    await _until(stripe_delivered)
    assert (await Payment.get(id=payment_id)).status == PaymentStatus.SUCCEEDED
    kinds = await WebhookEvent.filter(business_id=acme.business.id).values_list("type", flat=True)
    assert kinds.count("payment.succeeded") == 1
    await deliver_mail(portal.settings)
    receipts = [m for m in smtp.messages if "bo@example.com" in m["To"]]
    assert len(receipts) == 1
    assert await Invoice.filter(id=started["invoice"]["id"], status="paid").count() == 1


async def test_a_webhook_that_does_not_verify_is_refused_and_changes_nothing(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, globex: NewBusiness
) -> None:
    portal, acme = shop
    started = await _waiting_payment(portal, acme, stripe_lab, "cy@example.com")
    payment_id = started["payment"]["id"]
    await stripe_lab.authenticate(started["nextAction"]["clientSecret"])
    payment = await Payment.get(id=payment_id)
    body = event("evt_forged", await stripe_lab.intent(str(payment.gateway_reference)))
    url = f"/gateway/stripe/{acme.business.id}/webhook"
    old = int(time.time()) - 3600
    for headers, content, target in (
        ({}, body, url),  # no signature
        ({"Stripe-Signature": signed(body, "whsec_wrong")}, body, url),
        ({"Stripe-Signature": signed(body)}, body.replace(b"evt_forged", b"evt_forgex"), url),
        ({"Stripe-Signature": signed(body, at=old)}, body, url),  # replayed an hour later
        ({"Stripe-Signature": signed(body)}, body, "/gateway/stripe/bus_unknown/webhook"),
        # Globex has no Stripe secret: nothing it could be signed with.
        ({"Stripe-Signature": signed(body)}, body, f"/gateway/stripe/{globex.business.id}/webhook"),
    ):
        response = await portal.http.post(target, content=content, headers=headers)
        assert response.status_code == 400, (headers, target, response.text)
    assert (await Payment.get(id=payment_id)).status == PaymentStatus.REQUIRES_ACTION
    assert await GatewayEvent.filter(id__in=["evt_forged", "evt_forgex"]).count() == 0

    # Signed by Acme's secret but about a payment of another business: acknowledged, ignored.
    other = dict(await stripe_lab.intent(str(payment.gateway_reference)))
    other["metadata"] = {"payment_id": "pay_" + "0" * 26}
    other["id"] = "pi_not_ours"
    foreign = event("evt_foreign", other)
    response = await portal.http.post(
        url, content=foreign, headers={"Stripe-Signature": signed(foreign)}
    )
    assert response.status_code == 200
    assert (await Payment.get(id=payment_id)).status == PaymentStatus.REQUIRES_ACTION


async def test_the_endpoint_answers_on_the_real_server(
    shop: tuple[Portal, NewBusiness], stripe_portal: tuple[Portal, str]
) -> None:
    _, url = stripe_portal
    _, acme = shop
    async with httpx.AsyncClient() as http:
        refused = await http.post(f"{url}/gateway/stripe/{acme.business.id}/webhook", content=b"{}")
        wrong_method = await http.get(f"{url}/gateway/stripe/{acme.business.id}/webhook")
    assert refused.status_code == 400
    assert wrong_method.status_code == 405
