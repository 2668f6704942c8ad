"""Idempotency keys, as a merchant's retrying script and a customer's reloading browser rely on
them: the same key and input replay the first result without charging again, other input is
refused, keys belong to one caller and mode and are kept a day. And card data: a full number or
CVC is never stored, and a declined card is not saved."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise import Tortoise

from conftest import Portal
from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from models.clock import clock
from services.businesses import NewBusiness
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

GOOD = "4242424242424242"
OTHER_GOOD = "5555555555554444"
DECLINED = "4000000000000002"

CREATE_PAYMENT = """
mutation($input: CreatePaymentInput!) {
  createPayment(input: $input) {
    payment { id status amount { amount } failureCode }
    invoice { id number status }
    userErrors { code field message }
  }
}"""

UPDATE_SUBSCRIPTION = """
mutation($input: UpdateSubscriptionInput!) {
  updateSubscription(input: $input) { subscription { nextBillingDate } userErrors { code } }
}"""

RUN_BILLING_CYCLE = """
mutation { runBillingCycle { renewedCount failedCount userErrors { code } } }"""

PAYMENT_METHODS = """
query($id: ID!) { customer(id: $id) { paymentMethods { id last4 } } }"""


async def mutate(
    gql: GraphQLClient, query: str, field: str, input: dict[str, Any], token: str
) -> dict[str, Any]:
    data = await gql(query, {"input": input}, token=token)
    return dict(data[field])


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def counts(customer_id: str) -> tuple[int, int, int, int]:
    """What a request could have created for the customer: subscriptions, invoices, payments,
    saved cards."""
    return (
        await Subscription.filter(customer_id=customer_id).count(),
        await Invoice.filter(customer_id=customer_id).count(),
        await Payment.filter(customer_id=customer_id).count(),
        await PaymentMethod.filter(customer_id=customer_id).count(),
    )


async def put_on_hold(portal: Portal, key: str, customer_id: str, product_id: str) -> str:
    """Subscribes with a good card, switches to one whose charges are declined, lets the renewal
    fail: the subscription is ON_HOLD with an OPEN invoice. Returns its id."""
    gql = portal.gql
    created = await subscribe(gql, key, customer_id, product_id, GOOD)
    subscription_id = str(created["subscription"]["id"])
    session = await session_for(gql, key, customer_id)
    swapped = await mutate(
        gql,
        UPDATE_PAYMENT_METHOD,
        "updatePaymentMethod",
        {"subscriptionId": subscription_id, "card": card("4000000000000341")},
        session,
    )
    assert swapped["userErrors"] == []
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    moved = await mutate(
        gql,
        UPDATE_SUBSCRIPTION,
        "updateSubscription",
        {"subscriptionId": subscription_id, "nextBillingDate": past},
        key,
    )
    assert moved["userErrors"] == []
    cycle = (await gql(RUN_BILLING_CYCLE, token=key))["runBillingCycle"]
    assert cycle["failedCount"] == 1
    assert (await Subscription.get(id=subscription_id)).status == SubscriptionStatus.ON_HOLD
    return subscription_id


async def test_create_subscription_replays_the_same_request_and_refuses_other_input(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com")
    monthly = await create_product(gql, key, amount=1500, interval="MONTH", name="Monthly")
    yearly = await create_product(gql, key, amount=15000, interval="YEAR", name="Yearly")
    request = {
        "customerId": customer_id,
        "productId": monthly,
        "card": card(GOOD),
        "idempotencyKey": "subscribe-ada",
    }

    first = await mutate(gql, CREATE_SUBSCRIPTION, "createSubscription", request, key)
    assert first["userErrors"] == []
    assert first["subscription"]["status"] == "ACTIVE"
    assert first["payment"]["status"] == "SUCCEEDED"
    assert first["invoice"]["status"] == "PAID"
    assert await counts(customer_id) == (1, 1, 1, 1)

    # The script retries (a timeout, say): the same subscription, not a second charge.
    again = await mutate(gql, CREATE_SUBSCRIPTION, "createSubscription", request, key)
    assert again == first
    assert await counts(customer_id) == (1, 1, 1, 1)

    # The same key for something else is a bug in the caller: refused, nothing happens.
    for changed in ({"productId": yearly}, {"card": card(OTHER_GOOD)}):
        reused = await mutate(
            gql, CREATE_SUBSCRIPTION, "createSubscription", {**request, **changed}, key
        )
        assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"], reused
        assert reused["userErrors"][0]["field"] == ["idempotencyKey"]
        assert reused["subscription"] is None and reused["payment"] is None
        assert await counts(customer_id) == (1, 1, 1, 1)

    # A new key is a new subscription.
    other = await mutate(
        gql,
        CREATE_SUBSCRIPTION,
        "createSubscription",
        {**request, "idempotencyKey": "subscribe-ada-2"},
        key,
    )
    assert other["userErrors"] == []
    assert other["subscription"]["id"] != first["subscription"]["id"]
    assert await counts(customer_id) == (2, 2, 2, 2)


async def test_create_payment_replays_successes_and_declines_without_charging_again(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com")
    ebook = await create_product(gql, key, amount=900, interval=None, name="E-book")
    course = await create_product(gql, key, amount=4900, interval=None, name="Course")
    request = {
        "customerId": customer_id,
        "productId": ebook,
        "card": card(GOOD),
        "idempotencyKey": "order-1",
    }

    first = await mutate(gql, CREATE_PAYMENT, "createPayment", request, key)
    assert first["userErrors"] == []
    assert first["payment"]["status"] == "SUCCEEDED"
    assert first["invoice"]["status"] == "PAID"
    again = await mutate(gql, CREATE_PAYMENT, "createPayment", request, key)
    assert again == first
    assert await counts(customer_id) == (0, 1, 1, 1)

    for changed in ({"productId": course}, {"card": card(OTHER_GOOD)}):
        reused = await mutate(gql, CREATE_PAYMENT, "createPayment", {**request, **changed}, key)
        assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"], reused
        assert reused["payment"] is None
    assert await counts(customer_id) == (0, 1, 1, 1)

    # A decline is an outcome too: the retry is told the same, and the card is not tried again.
    declined_request = {**request, "card": card(DECLINED), "idempotencyKey": "order-2"}
    declined = await mutate(gql, CREATE_PAYMENT, "createPayment", declined_request, key)
    assert codes(declined) == ["CARD_DECLINED"]
    assert declined["payment"]["status"] == "FAILED"
    assert declined["payment"]["failureCode"] == "CARD_DECLINED"
    assert declined["invoice"]["status"] == "VOID"
    replayed = await mutate(gql, CREATE_PAYMENT, "createPayment", declined_request, key)
    assert replayed == declined
    failed = await Payment.filter(customer_id=customer_id, status=PaymentStatus.FAILED)
    assert [p.id for p in failed] == [declined["payment"]["id"]]
    assert await counts(customer_id) == (0, 2, 2, 1)


async def test_update_payment_method_keys_belong_to_one_caller_and_mode(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    product_id = await create_product(gql, key, amount=2500, interval="MONTH")
    ada = await create_customer(gql, key, "ada@example.com")
    on_hold = await put_on_hold(portal, key, ada, product_id)
    ada_session = await session_for(gql, key, ada)
    shared_key = "card-update-1"
    request = {"subscriptionId": on_hold, "card": card(GOOD), "idempotencyKey": shared_key}

    paid = await mutate(gql, UPDATE_PAYMENT_METHOD, "updatePaymentMethod", request, ada_session)
    assert paid["userErrors"] == []
    assert paid["payment"]["status"] == "SUCCEEDED"
    assert paid["subscription"]["status"] == "ACTIVE"
    before = await counts(ada)

    # The browser sends it again: the same payment, nothing charged, nothing saved.
    again = await mutate(gql, UPDATE_PAYMENT_METHOD, "updatePaymentMethod", request, ada_session)
    assert again["userErrors"] == []
    assert again["payment"]["id"] == paid["payment"]["id"]
    assert again["invoice"]["id"] == paid["invoice"]["id"]
    assert await counts(ada) == before
    reused = await mutate(
        gql,
        UPDATE_PAYMENT_METHOD,
        "updatePaymentMethod",
        {**request, "card": card(OTHER_GOOD)},
        ada_session,
    )
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert await counts(ada) == before

    # Another customer who happens to pick the same key is unaffected.
    bob = await create_customer(gql, key, "bob@example.com")
    bob_subscription = (await subscribe(gql, key, bob, product_id))["subscription"]["id"]
    bob_session = await session_for(gql, key, bob)
    bob_swap = await mutate(
        gql,
        UPDATE_PAYMENT_METHOD,
        "updatePaymentMethod",
        {
            "subscriptionId": bob_subscription,
            "card": card(OTHER_GOOD),
            "idempotencyKey": shared_key,
        },
        bob_session,
    )
    assert bob_swap["userErrors"] == []
    assert bob_swap["subscription"]["paymentMethod"]["last4"] == "4444"

    # So is the merchant's own script.
    ebook = await create_product(gql, key, amount=900, interval=None, name="E-book")
    order = await mutate(
        gql,
        CREATE_PAYMENT,
        "createPayment",
        {"customerId": ada, "productId": ebook, "card": card(GOOD), "idempotencyKey": shared_key},
        key,
    )
    assert order["userErrors"] == []
    assert order["payment"]["status"] == "SUCCEEDED"
    assert order["payment"]["id"] != paid["payment"]["id"]

    # And live mode: its refusals are its own, never a collision with the test-mode key.
    live_key = acme.live_api_key
    live_customer = await create_customer(gql, live_key, "ada@example.com")
    live_product = await create_product(gql, live_key, amount=900, interval=None, name="E-book")
    live_request = {
        "customerId": live_customer,
        "productId": live_product,
        "idempotencyKey": shared_key,
    }
    # (Live mode has no processor here: a saved card and a raw card are both refused clearly.)
    for source, refusal in (
        ({"paymentMethodId": "pm_0000000000000000000000000"}, "LIVE_PAYMENTS_NOT_CONFIGURED"),
        ({"card": card(GOOD)}, "LIVE_PAYMENTS_NOT_CONFIGURED"),
    ):
        live = await mutate(
            gql, CREATE_PAYMENT, "createPayment", {**live_request, **source}, live_key
        )
        assert codes(live) == [refusal], live
        assert live["payment"] is None


async def test_an_idempotency_key_is_kept_for_24_hours(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com")
    ebook = await create_product(gql, key, amount=900, interval=None, name="E-book")
    course = await create_product(gql, key, amount=4900, interval=None, name="Course")
    request = {
        "customerId": customer_id,
        "productId": ebook,
        "card": card(GOOD),
        "idempotencyKey": "daily-order",
    }
    first = await mutate(gql, CREATE_PAYMENT, "createPayment", request, key)
    assert first["userErrors"] == []

    clock.advance(timedelta(hours=23))
    still_kept = await mutate(
        gql, CREATE_PAYMENT, "createPayment", {**request, "productId": course}, key
    )
    assert codes(still_kept) == ["IDEMPOTENCY_KEY_REUSED"]

    clock.advance(timedelta(hours=2))
    new = await mutate(gql, CREATE_PAYMENT, "createPayment", {**request, "productId": course}, key)
    assert new["userErrors"] == []
    assert new["payment"]["status"] == "SUCCEEDED"
    assert new["payment"]["amount"]["amount"] == 4900
    assert new["payment"]["id"] != first["payment"]["id"]
    assert await Payment.filter(customer_id=customer_id).count() == 2


async def test_an_idempotency_key_has_1_to_255_characters(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com")
    ebook = await create_product(gql, key, amount=900, interval=None, name="E-book")
    monthly = await create_product(gql, key, amount=1500, interval="MONTH")
    order = {"customerId": customer_id, "productId": ebook, "card": card(GOOD)}

    for bad in ("", "   ", "k" * 256):
        refused = await mutate(
            gql, CREATE_PAYMENT, "createPayment", {**order, "idempotencyKey": bad}, key
        )
        assert codes(refused) == ["INVALID_IDEMPOTENCY_KEY"], refused
        assert refused["userErrors"][0]["field"] == ["idempotencyKey"]
        assert refused["payment"] is None
        refused = await mutate(
            gql,
            CREATE_SUBSCRIPTION,
            "createSubscription",
            {**order, "productId": monthly, "idempotencyKey": bad},
            key,
        )
        assert codes(refused) == ["INVALID_IDEMPOTENCY_KEY"], refused
    assert await counts(customer_id) == (0, 0, 0, 0)

    subscription_id = (await subscribe(gql, key, customer_id, monthly))["subscription"]["id"]
    session = await session_for(gql, key, customer_id)
    refused = await mutate(
        gql,
        UPDATE_PAYMENT_METHOD,
        "updatePaymentMethod",
        {"subscriptionId": subscription_id, "card": card(OTHER_GOOD), "idempotencyKey": "k" * 256},
        session,
    )
    assert codes(refused) == ["INVALID_IDEMPOTENCY_KEY"]
    subscription = await Subscription.get(id=subscription_id).prefetch_related("payment_method")
    assert subscription.payment_method.last4 == "4242"  # not swapped

    longest = await mutate(
        gql, CREATE_PAYMENT, "createPayment", {**order, "idempotencyKey": "k" * 255}, key
    )
    assert longest["userErrors"] == []
    assert longest["payment"]["status"] == "SUCCEEDED"


async def all_stored_text(database_url: str) -> list[tuple[str, str]]:
    """(table, value) for every non-null value of every row of every table, as text."""
    connection = Tortoise.get_connection("default")
    if database_url.startswith("sqlite"):
        tables_sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        tables_sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    tables = [row["name"] for row in await connection.execute_query_dict(tables_sql)]
    assert {"payment", "payment_method", "idempotency_record", "outbox_message"} <= set(tables)
    found = []
    for table in tables:
        # The table names come from the database's own catalogue, not from input.
        query = f'SELECT * FROM "{table}"'  # noqa: S608
        for row in await connection.execute_query_dict(query):
            for value in row.values():
                if value is None:
                    continue
                text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                found.append((table, text))
    return found


async def test_card_numbers_and_security_codes_are_never_stored(
    portal: Portal, acme: NewBusiness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com")
    monthly = await create_product(gql, key, amount=1500, interval="MONTH")
    secret_cvc = "739"
    good = {**card(GOOD), "cvc": secret_cvc}
    declined = {**card(DECLINED), "cvc": secret_cvc}

    created = await mutate(
        gql,
        CREATE_SUBSCRIPTION,
        "createSubscription",
        {"customerId": customer_id, "productId": monthly, "card": good, "idempotencyKey": "s-1"},
        key,
    )
    assert created["userErrors"] == []
    assert created["subscription"]["paymentMethod"]["last4"] == "4242"
    failed = await mutate(
        gql,
        CREATE_SUBSCRIPTION,
        "createSubscription",
        {
            "customerId": customer_id,
            "productId": monthly,
            "card": declined,
            "idempotencyKey": "s-2",
        },
        key,
    )
    assert codes(failed) == ["CARD_DECLINED"]

    # The CVC as a number of its own, not three digits inside an id, a hash or a timestamp.
    cvc_alone = re.compile(rf"(?<![0-9A-Za-z]){secret_cvc}(?![0-9A-Za-z])")
    stored = await all_stored_text(database_url)
    assert ("payment_method", "4242") in stored  # what may be kept of the card is there
    for number in (GOOD, DECLINED):
        assert [table for table, text in stored if number in text] == []
    assert [(table, text) for table, text in stored if cvc_alone.search(text)] == []
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for number in (GOOD, DECLINED):
        assert number not in logged
    assert not cvc_alone.search(logged)


async def test_a_declined_inline_card_fails_the_subscription_and_is_not_saved(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com")
    monthly = await create_product(gql, key, amount=1500, interval="MONTH")

    declined = await subscribe(gql, key, customer_id, monthly, DECLINED)
    assert codes(declined) == ["CARD_DECLINED"]
    assert declined["subscription"]["status"] == "FAILED"
    assert declined["subscription"]["paymentMethod"] is None
    assert declined["payment"]["status"] == "FAILED"
    assert declined["payment"]["failureCode"] == "CARD_DECLINED"
    assert declined["invoice"]["status"] != "PAID"

    methods = (await gql(PAYMENT_METHODS, {"id": customer_id}, token=key))["customer"]
    assert methods["paymentMethods"] == []
    assert await PaymentMethod.filter(customer_id=customer_id).count() == 0
    invoice = await Invoice.get(id=declined["invoice"]["id"])
    assert invoice.status == InvoiceStatus.VOID and invoice.amount_due == 0

    # A good card afterwards works, and is the only one saved.
    ok = await subscribe(gql, key, customer_id, monthly, GOOD)
    assert ok["userErrors"] == []
    methods = (await gql(PAYMENT_METHODS, {"id": customer_id}, token=key))["customer"]
    assert [m["last4"] for m in methods["paymentMethods"]] == ["4242"]


async def test_a_card_change_that_lost_a_race_is_not_kept_under_its_key(
    portal: Portal, acme: NewBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The customer cancels the subscription in another tab while the new card is being saved:
    the card change is told it changed meanwhile, and the same request sent again (same key) is
    answered from the subscription as it is now, not with the stale answer."""
    from services.payments.gateway import TestGateway

    gql, key = portal.gql, acme.test_api_key
    product_id = await create_product(gql, key, amount=2500, interval="MONTH")
    eve = await create_customer(gql, key, "eve@example.com")
    subscription_id = (await subscribe(gql, key, eve, product_id))["subscription"]["id"]
    eve_session = await session_for(gql, key, eve)
    save_card = TestGateway.save_card

    async def save_while_another_tab_cancels(self: Any, *args: Any, **kwargs: Any) -> Any:
        saved = await save_card(self, *args, **kwargs)
        cancelled = await gql(
            "mutation($i: CancelSubscriptionInput!) { cancelSubscription(input: $i)"
            " { userErrors { code } } }",
            {"i": {"subscriptionId": subscription_id}},
            token=eve_session,
        )
        assert cancelled["cancelSubscription"]["userErrors"] == []
        return saved

    monkeypatch.setattr(TestGateway, "save_card", save_while_another_tab_cancels)
    request = {"subscriptionId": subscription_id, "card": card(OTHER_GOOD), "idempotencyKey": "k1"}
    lost = await mutate(gql, UPDATE_PAYMENT_METHOD, "updatePaymentMethod", request, eve_session)
    assert codes(lost) == ["INVALID_STATE"]
    assert "changed meanwhile" in lost["userErrors"][0]["message"]
    monkeypatch.undo()

    again = await mutate(gql, UPDATE_PAYMENT_METHOD, "updatePaymentMethod", request, eve_session)
    assert codes(again) == ["INVALID_STATE"]
    assert "Only an active or on-hold subscription" in again["userErrors"][0]["message"]
    subscription = await Subscription.get(id=subscription_id)
    assert subscription.status == SubscriptionStatus.CANCELLED
    assert await Payment.filter(subscription_id=subscription_id).count() == 1
