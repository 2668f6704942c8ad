"""Money moves once, also when the same request arrives many times at the same moment: a
customer double-clicking "pay" on an ON_HOLD subscription is charged once, the invoice is paid
once, invoice numbers stay gapless and unique, and overlapping billing runs renew once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from conftest import Portal
from models import (
    Invoice,
    InvoiceStatus,
    Mode,
    OutboxMessage,
    Payment,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from services.billing.invoices import InvoiceItem, create_invoice
from services.businesses import NewBusiness
from services.payments.gateway import TestGateway
from support import (
    CREATE_SUBSCRIPTION,
    UPDATE_PAYMENT_METHOD,
    GraphQLClient,
    card,
    create_customer,
    create_product,
    session_for,
    subscribe,
)

CONCURRENCY = 20
GOOD = "4242424242424242"
DECLINES_ON_CHARGE = "4000000000000341"

UPDATE_SUBSCRIPTION = """
mutation($input: UpdateSubscriptionInput!) {
  updateSubscription(input: $input) { subscription { nextBillingDate } userErrors { code } }
}"""

RUN_BILLING_CYCLE = """
mutation { runBillingCycle { renewedCount failedCount userErrors { code } } }"""

CREATE_PAYMENT = """
mutation($input: CreatePaymentInput!) {
  createPayment(input: $input) {
    payment { id status failureCode }
    invoice { id number status }
    userErrors { code field message }
  }
}"""


async def gather_payloads(
    gql: GraphQLClient, field: str, calls: list[tuple[str, dict[str, Any], str]]
) -> list[dict[str, Any]]:
    """Sends every (query, variables, token) at once; each must be answered without a GraphQL
    error (no INTERNAL_SERVER_ERROR), and gives back the mutation's payload."""
    responses = await asyncio.gather(
        *(gql.raw(query, variables, token) for query, variables, token in calls)
    )
    return payloads_of(responses, field)


def payloads_of(responses: list[httpx.Response], field: str) -> list[dict[str, Any]]:
    payloads = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        payloads.append(body["data"][field])
    return payloads


async def move_billing_date_into_past(gql: GraphQLClient, key: str, subscription_id: str) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    moved = await gql(
        UPDATE_SUBSCRIPTION,
        {"input": {"subscriptionId": subscription_id, "nextBillingDate": past}},
        token=key,
    )
    assert moved["updateSubscription"]["userErrors"] == []


async def on_hold_subscription(portal: Portal, business: NewBusiness) -> tuple[str, str, str]:
    """The real way: subscribe with a good card, switch to 4000000000000341 while ACTIVE, let
    the renewal fail. Returns (subscription id, the customer's session, the OPEN invoice id)."""
    gql, key = portal.gql, business.test_api_key
    customer_id = await create_customer(gql, key, "grace@example.com", "Grace Hopper")
    product_id = await create_product(gql, key, amount=2500, interval="MONTH")
    created = await subscribe(gql, key, customer_id, product_id, GOOD)
    assert created["subscription"]["status"] == "ACTIVE", created
    subscription_id = created["subscription"]["id"]
    session = await session_for(gql, key, customer_id)

    swapped = await gql(
        UPDATE_PAYMENT_METHOD,
        {"input": {"subscriptionId": subscription_id, "card": card(DECLINES_ON_CHARGE)}},
        token=session,
    )
    assert swapped["updatePaymentMethod"]["userErrors"] == []
    assert swapped["updatePaymentMethod"]["payment"] is None

    await move_billing_date_into_past(gql, key, subscription_id)
    cycle = (await gql(RUN_BILLING_CYCLE, token=key))["runBillingCycle"]
    assert cycle == {"renewedCount": 0, "failedCount": 1, "userErrors": []}

    subscription = await Subscription.get(id=subscription_id)
    assert subscription.status == SubscriptionStatus.ON_HOLD
    [open_invoice] = await Invoice.filter(
        subscription_id=subscription_id, status=InvoiceStatus.OPEN
    )
    assert open_invoice.amount_due == 2500
    return subscription_id, session, open_invoice.id


async def assert_paid_once(subscription_id: str, open_invoice_id: str, payments_before: int) -> str:
    """Exactly one new payment, SUCCEEDED, for exactly what was owed; the OPEN invoice PAID once;
    the subscription ACTIVE and released; one receipt and one reactivation notice queued.
    Returns the payment's id."""
    new_payments = await Payment.filter(subscription_id=subscription_id).order_by("created_at")
    new_payments = new_payments[payments_before:]
    succeeded = [p for p in new_payments if p.status == PaymentStatus.SUCCEEDED]
    assert len(succeeded) == 1, [(p.id, p.status) for p in new_payments]
    assert [p.status for p in new_payments] == [PaymentStatus.SUCCEEDED]
    [payment] = succeeded
    assert payment.amount == 2500
    assert payment.invoice_id == open_invoice_id  # type: ignore[attr-defined]

    invoices = await Invoice.filter(subscription_id=subscription_id)
    assert len(invoices) == 2  # the first period's and the failed renewal's, nothing new
    paid_renewal = next(i for i in invoices if i.id == open_invoice_id)
    assert paid_renewal.status == InvoiceStatus.PAID
    assert paid_renewal.amount_due == 0
    assert paid_renewal.paid_at is not None

    subscription = await Subscription.get(id=subscription_id)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.charging_payment_id is None
    assert subscription.next_billing_date is not None
    assert subscription.next_billing_date > datetime.now(UTC) + timedelta(days=27)

    # The customer hears about it once, not twenty times.
    reactivated = await OutboxMessage.filter(topic="subscription_reactivated").count()
    assert reactivated == 1
    receipts = await OutboxMessage.filter(topic="payment_receipt").count()
    assert receipts == 2  # the first period's receipt and this one
    return payment.id


async def test_twenty_identical_payments_of_an_on_hold_subscription_charge_once(
    portal: Portal, acme: NewBusiness
) -> None:
    gql = portal.gql
    subscription_id, session, open_invoice_id = await on_hold_subscription(portal, acme)
    payments_before = await Payment.filter(subscription_id=subscription_id).count()

    request = {
        "input": {
            "subscriptionId": subscription_id,
            "card": card(GOOD),
            "idempotencyKey": "pay-dues-once",
        }
    }
    payloads = await gather_payloads(
        gql, "updatePaymentMethod", [(UPDATE_PAYMENT_METHOD, request, session)] * CONCURRENCY
    )

    payment_id = await assert_paid_once(subscription_id, open_invoice_id, payments_before)
    successes = [p for p in payloads if not p["userErrors"]]
    assert successes, payloads
    for payload in successes:  # every success is the same one, replayed
        assert payload["payment"]["id"] == payment_id
        assert payload["payment"]["status"] == "SUCCEEDED"
        assert payload["payment"]["amount"]["amount"] == 2500
        assert payload["invoice"]["id"] == open_invoice_id
        assert payload["invoice"]["status"] == "PAID"
        assert payload["subscription"]["status"] == "ACTIVE"
        assert payload["subscription"]["paymentMethod"]["last4"] == "4242"
    for payload in payloads:
        if payload["userErrors"]:
            codes = [e["code"] for e in payload["userErrors"]]
            assert codes in (["PAYMENT_IN_PROGRESS"], ["IDEMPOTENCY_KEY_IN_USE"]), payload

    # Later, the same request again: still the same payment, still nothing charged.
    again = (await gql(UPDATE_PAYMENT_METHOD, request, token=session))["updatePaymentMethod"]
    assert again["userErrors"] == []
    assert again["payment"]["id"] == payment_id
    await assert_paid_once(subscription_id, open_invoice_id, payments_before)


async def test_twenty_different_payments_of_an_on_hold_subscription_charge_once(
    portal: Portal, acme: NewBusiness
) -> None:
    gql = portal.gql
    subscription_id, session, open_invoice_id = await on_hold_subscription(portal, acme)
    payments_before = await Payment.filter(subscription_id=subscription_id).count()

    calls = [
        (
            UPDATE_PAYMENT_METHOD,
            {
                "input": {
                    "subscriptionId": subscription_id,
                    "card": card(GOOD),
                    "idempotencyKey": f"click-{n}",
                }
            },
            session,
        )
        for n in range(CONCURRENCY)
    ]
    payloads = await gather_payloads(gql, "updatePaymentMethod", calls)

    payment_id = await assert_paid_once(subscription_id, open_invoice_id, payments_before)
    charged = [p for p in payloads if p["payment"] is not None]
    assert len(charged) == 1, payloads
    [winner] = charged
    assert winner["userErrors"] == []
    assert winner["payment"]["id"] == payment_id
    assert winner["payment"]["status"] == "SUCCEEDED"
    assert winner["invoice"]["status"] == "PAID"
    assert winner["subscription"]["status"] == "ACTIVE"
    for payload in payloads:
        if payload is winner:
            continue
        if payload["userErrors"]:  # lost the race while the winner's charge was under way
            assert [e["code"] for e in payload["userErrors"]] == ["PAYMENT_IN_PROGRESS"], payload
        else:  # ran after the winner: the subscription was ACTIVE, the card swapped, no charge
            assert payload["payment"] is None
            assert payload["subscription"]["status"] == "ACTIVE"
            assert payload["subscription"]["outstandingAmount"]["amount"] == 0


async def test_concurrent_charges_number_invoices_without_gaps_or_repeats(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    gql = portal.gql
    acme_key, globex_key = acme.test_api_key, globex.test_api_key
    acme_customer = await create_customer(gql, acme_key, "ada@example.com")
    acme_once = await create_product(gql, acme_key, amount=900, interval=None, name="E-book")
    acme_monthly = await create_product(gql, acme_key, amount=1500, interval="MONTH")
    globex_customer = await create_customer(gql, globex_key, "hans@example.com")
    globex_once = await create_product(gql, globex_key, amount=700, interval=None, name="Kurs")

    # An earlier invoice counts: the concurrent ones continue after it.
    earlier = await subscribe(gql, acme_key, acme_customer, acme_monthly)
    assert earlier["invoice"]["number"] == "TEST-INV-000001"

    def purchase(key: str, customer_id: str, product_id: str, n: int, number: str) -> Any:
        return (
            CREATE_PAYMENT,
            {
                "input": {
                    "customerId": customer_id,
                    "productId": product_id,
                    "card": card(number),
                    "idempotencyKey": f"buy-{n}",
                }
            },
            key,
        )

    def subscription(n: int) -> Any:
        return (
            CREATE_SUBSCRIPTION,
            {
                "input": {
                    "customerId": acme_customer,
                    "productId": acme_monthly,
                    "card": card(GOOD),
                    "idempotencyKey": f"subscribe-{n}",
                }
            },
            acme_key,
        )

    # Acme: 10 one-time purchases (two of them declined; a void invoice keeps its number) and
    # 10 subscriptions; Globex's purchases run in between.
    acme_calls = [
        purchase(acme_key, acme_customer, acme_once, n, "4000000000000002" if n < 2 else GOOD)
        for n in range(CONCURRENCY // 2)
    ] + [subscription(n) for n in range(CONCURRENCY // 2)]
    globex_calls = [purchase(globex_key, globex_customer, globex_once, n, GOOD) for n in range(5)]
    calls = acme_calls[::2] + globex_calls + acme_calls[1::2]
    responses = await asyncio.gather(*(gql.raw(q, v, t) for q, v, t in calls))
    statuses = []
    for response in responses:
        body = response.json()
        assert "errors" not in body, body["errors"]
        payload = next(iter(body["data"].values()))
        statuses.append(payload["invoice"]["status"])
    assert sorted(statuses) == ["PAID"] * (len(calls) - 2) + ["VOID"] * 2

    acme_numbers = sorted(
        await Invoice.filter(business_id=acme.business.id, mode=Mode.TEST).values_list(
            "number", flat=True
        )
    )
    assert acme_numbers == [f"TEST-INV-{n:06d}" for n in range(1, CONCURRENCY + 2)]
    globex_numbers = sorted(
        await Invoice.filter(business_id=globex.business.id, mode=Mode.TEST).values_list(
            "number", flat=True
        )
    )
    assert globex_numbers == [f"TEST-INV-{n:06d}" for n in range(1, 6)]

    # Live numbers are their own sequence, without the TEST- prefix. Live mode takes no raw
    # cards (and no processor is configured here), so a live invoice is made by the service.
    async with in_transaction():
        live = await create_invoice(
            business_id=acme.business.id,
            mode=Mode.LIVE,
            customer_id=acme_customer,
            subscription_id=None,
            currency="EUR",
            items=[InvoiceItem("Live order", 900)],
        )
    assert live.number == "INV-000001"
    after_live = await subscribe(gql, acme_key, acme_customer, acme_monthly)
    assert after_live["invoice"]["number"] == f"TEST-INV-{CONCURRENCY + 2:06d}"


async def test_overlapping_billing_runs_renew_each_subscription_once(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    product_id = await create_product(gql, key, amount=1500, interval="MONTH")
    subscription_ids = []
    for n in range(3):
        customer_id = await create_customer(gql, key, f"renew{n}@example.com")
        created = await subscribe(gql, key, customer_id, product_id)
        assert created["subscription"]["status"] == "ACTIVE"
        subscription_ids.append(created["subscription"]["id"])
        await move_billing_date_into_past(gql, key, created["subscription"]["id"])

    runs = await gather_payloads(
        gql, "runBillingCycle", [(RUN_BILLING_CYCLE, {}, key), (RUN_BILLING_CYCLE, {}, key)]
    )
    assert sum(run["renewedCount"] for run in runs) == 3, runs
    assert all(run["failedCount"] == 0 and run["userErrors"] == [] for run in runs), runs

    for subscription_id in subscription_ids:
        invoices = await Invoice.filter(subscription_id=subscription_id)
        assert len(invoices) == 2  # the first period's and one renewal
        assert {i.status for i in invoices} == {InvoiceStatus.PAID}
        payments = await Payment.filter(subscription_id=subscription_id)
        assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED] * 2
        subscription = await Subscription.get(id=subscription_id)
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert subscription.next_billing_date is not None
        assert subscription.next_billing_date > datetime.now(UTC) + timedelta(days=27)

    # Nothing is due any more: a third run renews nothing.
    third = (await gql(RUN_BILLING_CYCLE, token=key))["runBillingCycle"]
    assert third == {"renewedCount": 0, "failedCount": 0, "userErrors": []}


async def test_a_request_that_lost_the_race_can_be_retried_with_its_key(
    portal: Portal, acme: NewBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser is told "already under way, try again"; that must stay true. Once the winner
    is done, retrying the loser's request with its own key answers from the subscription as it
    is now (ACTIVE: the card is swapped, nothing charged), not with a stale "in progress"."""
    gql = portal.gql
    subscription_id, session, open_invoice_id = await on_hold_subscription(portal, acme)
    payments_before = await Payment.filter(subscription_id=subscription_id).count()

    def attempt(key: str, number: str) -> tuple[str, dict[str, Any], str]:
        request = {"subscriptionId": subscription_id, "card": card(number), "idempotencyKey": key}
        return UPDATE_PAYMENT_METHOD, {"input": request}, session

    tabs = [attempt(f"tab-{n}", GOOD if n % 2 else "5555555555554444") for n in range(5)]
    # The winner's charge waits until the four others were answered, so that all five overlap
    # however the machine schedules them (a tab arriving after the winner finished would find
    # the subscription ACTIVE and only swap the card, which is right but not this story).
    released = asyncio.Event()
    charge_new_card = TestGateway.charge_new_card

    async def held(self: TestGateway, *args: Any, **kwargs: Any) -> Any:
        await released.wait()
        return await charge_new_card(self, *args, **kwargs)

    monkeypatch.setattr(TestGateway, "charge_new_card", held)
    requests = [asyncio.create_task(gql.raw(*tab)) for tab in tabs]
    for _ in range(1000):
        if sum(request.done() for request in requests) >= 4:
            break
        await asyncio.sleep(0.01)
    released.set()
    payloads = payloads_of(list(await asyncio.gather(*requests)), "updatePaymentMethod")
    monkeypatch.undo()
    outcomes = sorted([e["code"] for e in p["userErrors"]] for p in payloads)
    assert outcomes == [[]] + [["PAYMENT_IN_PROGRESS"]] * 4, payloads
    await assert_paid_once(subscription_id, open_invoice_id, payments_before)

    loser = next(tab for tab, payload in zip(tabs, payloads, strict=True) if payload["userErrors"])
    query, variables, token = loser
    retried = (await gql(query, variables, token=token))["updatePaymentMethod"]
    assert retried["userErrors"] == [], retried
    assert retried["payment"] is None
    assert retried["subscription"]["status"] == "ACTIVE"
    await assert_paid_once(subscription_id, open_invoice_id, payments_before)
