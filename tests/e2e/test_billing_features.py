"""Billing as merchants and customers use it, through HTTP: products and their prices, the test
cards, first charges, one-time payments, saved cards, cancellation, the customer's lists and
`node(id:)`, and what a merchant may change on a subscription."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import Portal
from models import Mode, PaymentMethod
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    CREATE_PRODUCT,
    CREATE_SUBSCRIPTION,
    GOOD_CARD,
    UPDATE_PAYMENT_METHOD,
    GraphQLClient,
    MailCatcher,
    card,
    code_of,
    create_customer,
    create_product,
    deliver_mail,
    session_for,
    subscribe,
    text_body,
)

PRODUCT_FIELDS = """
  id name description isRecurring interval intervalCount
  price { amount currency formatted }
"""

PRODUCTS = "{ products(first: 100) { totalCount edges { node {" + PRODUCT_FIELDS + "} } } }"

CREATE_PRODUCT_FULL = (
    "mutation($input: CreateProductInput!) { createProduct(input: $input) { product {"
    + PRODUCT_FIELDS
    + "} userErrors { code field message } } }"
)

ADD_PAYMENT_METHOD = """
mutation($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) {
    paymentMethod { id brand last4 expMonth expYear }
    userErrors { code field message }
  }
}"""

REMOVE_PAYMENT_METHOD = """
mutation($input: RemovePaymentMethodInput!) {
  removePaymentMethod(input: $input) {
    paymentMethod { id last4 }
    userErrors { code field message }
  }
}"""

CREATE_PAYMENT = """
mutation($input: CreatePaymentInput!) {
  createPayment(input: $input) {
    payment { id status amount { amount currency } failureCode subscription { id }
              paymentMethod { brand last4 } }
    invoice { id number status total { amount currency } amountDue { amount } paidAt
              subscription { id } }
    userErrors { code field message }
  }
}"""

CANCEL = """
mutation($input: CancelSubscriptionInput!) {
  cancelSubscription(input: $input) {
    subscription { id status cancelAtNextBillingDate cancelledAt nextBillingDate
                   cancellationReason cancellationComment }
    userErrors { code field message }
  }
}"""

UNDO = """
mutation($input: UndoCancellationInput!) {
  undoCancellation(input: $input) {
    subscription { id status cancelAtNextBillingDate cancellationReason cancellationComment }
    userErrors { code field message }
  }
}"""

UPDATE_SUBSCRIPTION = """
mutation($input: UpdateSubscriptionInput!) {
  updateSubscription(input: $input) {
    subscription { id status nextBillingDate cancelAtNextBillingDate }
    userErrors { code field message }
  }
}"""

RUN_BILLING_CYCLE = """
mutation { runBillingCycle { renewedCount failedCount endedCount userErrors { code } } }"""

SUBSCRIPTION = """
query($id: ID!) {
  subscription(id: $id) {
    id status nextBillingDate cancelAtNextBillingDate cancelledAt
    cancellationReason cancellationComment
    paymentMethod { id last4 }
    outstandingAmount { amount currency }
  }
}"""

# What a merchant sees of one customer's billing.
CUSTOMER_BILLING = """
query($id: ID!) {
  customer(id: $id) {
    subscriptions(first: 100) { totalCount edges { node { id status } } }
    invoices(first: 100) { totalCount edges { node { id status } } }
    payments(first: 100) { totalCount edges { node { id status failureCode } } }
    paymentMethods { id brand last4 }
  }
}"""

MY_CARDS = "{ me { paymentMethods { id brand last4 expMonth expYear } } }"

MY_SUBSCRIPTIONS = """
query($status: SubscriptionStatus) {
  me { subscriptions(first: 100, status: $status) {
    totalCount
    edges { node { id status outstandingAmount { amount currency } } }
  } }
}"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Subscription { status }
    ... on Payment { paymentStatus: status }
    ... on Invoice { number }
    ... on PaymentMethod { last4 }
  }
}"""

DECLINING_CARDS = [
    ("4000000000000002", "CARD_DECLINED"),
    ("4000000000009995", "INSUFFICIENT_FUNDS"),
    ("4000000000000069", "EXPIRED_CARD"),
    ("4000000000000127", "INCORRECT_CVC"),
    ("4000000000000119", "PROCESSING_ERROR"),
]
DECLINE_ON_CHARGE = "4000000000000341"

REASONS = [
    "TOO_EXPENSIVE",
    "MISSING_FEATURES",
    "SWITCHED_SERVICE",
    "UNUSED",
    "CUSTOMER_SERVICE",
    "LOW_QUALITY",
    "TOO_COMPLEX",
    "OTHER",
]


async def gql_in_language(
    portal: Portal, language: str, query: str, token: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await portal.http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": language},
    )
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def products_of(gql: GraphQLClient, key: str) -> dict[str, Any]:
    return dict((await gql(PRODUCTS, token=key))["products"])


async def billing_of(gql: GraphQLClient, key: str, customer_id: str) -> dict[str, Any]:
    return dict((await gql(CUSTOMER_BILLING, {"id": customer_id}, token=key))["customer"])


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def subscription_state(gql: GraphQLClient, token: str, sub_id: str) -> dict[str, Any]:
    return dict((await gql(SUBSCRIPTION, {"id": sub_id}, token=token))["subscription"])


# Products


async def test_create_recurring_and_one_time_products(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    recurring = (
        await gql(
            CREATE_PRODUCT_FULL,
            {
                "input": {
                    "name": "Team plan",
                    "description": "For teams",
                    "price": {"amount": 4500, "currency": "eur"},
                    "interval": "MONTH",
                    "intervalCount": 3,
                }
            },
            token=key,
        )
    )["createProduct"]
    assert recurring["userErrors"] == []
    assert recurring["product"] == {
        "id": recurring["product"]["id"],
        "name": "Team plan",
        "description": "For teams",
        "isRecurring": True,
        "interval": "MONTH",
        "intervalCount": 3,
        "price": {"amount": 4500, "currency": "EUR", "formatted": "€45.00"},
    }
    assert recurring["product"]["id"].startswith("pdt_")

    clock.advance(timedelta(minutes=1))
    once = (
        await gql(
            CREATE_PRODUCT_FULL,
            {"input": {"name": "Setup fee", "price": {"amount": 9900, "currency": "EUR"}}},
            token=key,
        )
    )["createProduct"]
    assert once["userErrors"] == []
    assert once["product"]["isRecurring"] is False
    assert once["product"]["interval"] is None
    assert once["product"]["intervalCount"] is None

    # Both are listed, newest first, exactly as created.
    listed = await products_of(gql, key)
    assert listed["totalCount"] == 2
    assert [e["node"] for e in listed["edges"]] == [once["product"], recurring["product"]]

    # A recurring product without intervalCount bills every single interval.
    yearly = (
        await gql(
            CREATE_PRODUCT_FULL,
            {
                "input": {
                    "name": "Yearly",
                    "price": {"amount": 10000, "currency": "EUR"},
                    "interval": "YEAR",
                }
            },
            token=key,
        )
    )["createProduct"]
    assert yearly["product"]["isRecurring"] is True
    assert yearly["product"]["intervalCount"] == 1


async def test_prices_round_trip_and_are_formatted_in_the_clients_language(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    eur = await create_product(portal.gql, key, amount=1500, currency="EUR", name="Euro plan")
    jpy = await create_product(portal.gql, key, amount=500, currency="JPY", name="Yen plan")
    query = """
    query($id: ID!) { node(id: $id) { ... on Product { price { amount currency formatted } } } }"""

    english = await gql_in_language(portal, "en", query, key, {"id": eur})
    assert english["node"]["price"] == {"amount": 1500, "currency": "EUR", "formatted": "€15.00"}
    german = await gql_in_language(portal, "de", query, key, {"id": eur})
    assert german["node"]["price"] == {
        "amount": 1500,
        "currency": "EUR",
        "formatted": "15,00\xa0€",
    }
    yen = await gql_in_language(portal, "en", query, key, {"id": jpy})
    assert yen["node"]["price"] == {"amount": 500, "currency": "JPY", "formatted": "¥500"}

    # The same in the products list, and without any Accept-Language it is English.
    listed = await portal.gql(PRODUCTS, token=key)
    prices = {e["node"]["id"]: e["node"]["price"] for e in listed["products"]["edges"]}
    assert prices[eur]["formatted"] == "€15.00"
    assert prices[jpy]["formatted"] == "¥500"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        pytest.param(
            {"price": {"amount": 0, "currency": "EUR"}}, "INVALID_AMOUNT", "price", id="0"
        ),
        pytest.param(
            {"price": {"amount": -1500, "currency": "EUR"}}, "INVALID_AMOUNT", "price", id="neg"
        ),
        pytest.param(
            {"price": {"amount": 1500, "currency": "XYZ"}}, "INVALID_CURRENCY", "price", id="xyz"
        ),
        pytest.param(
            {"interval": "MONTH", "intervalCount": 0},
            "INVALID_INTERVAL",
            "intervalCount",
            id="interval-count-0",
        ),
        pytest.param(
            {"intervalCount": 2}, "INVALID_INTERVAL", "intervalCount", id="count-without-interval"
        ),
    ],
)
async def test_invalid_product_is_refused_and_nothing_is_created(
    portal: Portal, acme: NewBusiness, changes: dict[str, Any], code: str, field: str
) -> None:
    gql, key = portal.gql, acme.test_api_key
    existing = await create_product(gql, key, name="Existing plan")
    before = await products_of(gql, key)

    fields = {"name": "Bad plan", "price": {"amount": 1500, "currency": "EUR"}, **changes}
    payload = (await gql(CREATE_PRODUCT, {"input": fields}, token=key))["createProduct"]
    assert payload["product"] is None
    assert codes(payload) == [code], payload
    assert payload["userErrors"][0]["field"][0] == field
    assert payload["userErrors"][0]["message"]

    after = await products_of(gql, key)
    assert after == before
    assert [e["node"]["id"] for e in after["edges"]] == [existing]


async def test_customer_session_cannot_create_products(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    session = await session_for(gql, key, customer_id)

    error = await gql.error(
        CREATE_PRODUCT,
        {"input": {"name": "Free stuff", "price": {"amount": 100, "currency": "EUR"}}},
        token=session,
    )
    assert code_of(error) == "UNAUTHENTICATED"
    assert (await products_of(gql, key))["totalCount"] == 0
    # Nor may the session list the merchant's products.
    assert code_of(await gql.error(PRODUCTS, token=session)) == "UNAUTHENTICATED"


# Saving cards (test cards, through addPaymentMethod)


async def test_good_test_cards_are_saved_with_only_what_may_be_shown(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    session = await session_for(gql, key, customer_id)

    saved: dict[str, dict[str, Any]] = {}
    for number, brand in (("4242424242424242", "visa"), ("5555555555554444", "mastercard")):
        response = await gql.raw(
            ADD_PAYMENT_METHOD,
            {"input": {"card": {**card(number), "expMonth": 7, "expYear": 2031}}},
            token=session,
        )
        assert number not in response.text
        payload = response.json()["data"]["addPaymentMethod"]
        assert payload["userErrors"] == []
        method = payload["paymentMethod"]
        assert method["id"].startswith("pm_")
        assert method == {
            "id": method["id"],
            "brand": brand,
            "last4": number[-4:],
            "expMonth": 7,
            "expYear": 2031,
        }
        saved[number] = method

    mine = (await gql(MY_CARDS, token=session))["me"]["paymentMethods"]
    assert sorted(mine, key=lambda m: m["id"]) == sorted(saved.values(), key=lambda m: m["id"])

    # The PaymentMethod type has no other field that could carry card data.
    introspected = await gql('{ __type(name: "PaymentMethod") { fields { name } } }', token=session)
    names = {f["name"] for f in introspected["__type"]["fields"]}
    assert names == {"id", "brand", "last4", "expMonth", "expYear"}


async def test_refused_test_cards_are_not_saved(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    session = await session_for(gql, key, customer_id)
    this_year = datetime.now(UTC).year

    refused = [
        *DECLINING_CARDS,
        ("4242424242424241", "INVALID_CARD_NUMBER"),  # fails the Luhn check
        ("1234567812345678", "INVALID_CARD_NUMBER"),
    ]
    for number, code in refused:
        response = await gql.raw(
            ADD_PAYMENT_METHOD, {"input": {"card": card(number)}}, token=session
        )
        assert number not in response.text, number
        payload = response.json()["data"]["addPaymentMethod"]
        assert payload["paymentMethod"] is None, number
        assert codes(payload) == [code], (number, payload)
        assert payload["userErrors"][0]["message"]

    # A good card with an expiry in the past is refused as expired.
    for expiry in ({"expYear": this_year - 1}, {"expYear": this_year - 1, "expMonth": 12}):
        past = {**GOOD_CARD, **expiry}
        response = await gql.raw(ADD_PAYMENT_METHOD, {"input": {"card": past}}, token=session)
        assert GOOD_CARD["number"] not in response.text
        payload = response.json()["data"]["addPaymentMethod"]
        assert payload["paymentMethod"] is None
        assert codes(payload) == ["EXPIRED_CARD"], payload

    assert (await gql(MY_CARDS, token=session))["me"]["paymentMethods"] == []
    assert (await billing_of(gql, key, customer_id))["paymentMethods"] == []


async def test_card_that_declines_every_charge_saves_fine(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    session = await session_for(gql, key, customer_id)

    payload = (
        await gql(ADD_PAYMENT_METHOD, {"input": {"card": card(DECLINE_ON_CHARGE)}}, token=session)
    )["addPaymentMethod"]
    assert payload["userErrors"] == []
    assert payload["paymentMethod"]["last4"] == "0341"
    assert payload["paymentMethod"]["brand"] == "visa"
    mine = (await gql(MY_CARDS, token=session))["me"]["paymentMethods"]
    assert [m["id"] for m in mine] == [payload["paymentMethod"]["id"]]

    # Every charge to it is declined: subscribing with the saved card fails.
    product_id = await create_product(gql, key)
    created = (
        await gql(
            CREATE_SUBSCRIPTION,
            {
                "input": {
                    "customerId": customer_id,
                    "productId": product_id,
                    "paymentMethodId": payload["paymentMethod"]["id"],
                }
            },
            token=key,
        )
    )["createSubscription"]
    assert codes(created) == ["CARD_DECLINED"]
    assert created["subscription"]["status"] == "FAILED"
    assert created["payment"]["status"] == "FAILED"


# First charges and one-time payments


@pytest.mark.parametrize(
    ("number", "code"),
    [*DECLINING_CARDS, (DECLINE_ON_CHARGE, "CARD_DECLINED")],
    ids=lambda value: value[-4:] if value.isdigit() else value,
)
async def test_subscribing_with_a_declining_card_fails_and_saves_nothing(
    portal: Portal, acme: NewBusiness, number: str, code: str
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key, amount=1500)

    response = await gql.raw(
        CREATE_SUBSCRIPTION,
        {"input": {"customerId": customer_id, "productId": product_id, "card": card(number)}},
        token=key,
    )
    assert number not in response.text
    created = response.json()["data"]["createSubscription"]
    assert codes(created) == [code], created
    assert created["subscription"]["status"] == "FAILED"
    assert created["subscription"]["nextBillingDate"] is None
    assert created["payment"]["status"] == "FAILED"
    assert created["payment"]["failureCode"] == code
    assert created["payment"]["amount"] == {"amount": 1500, "currency": "EUR"}
    assert created["invoice"]["status"] == "VOID"

    # Nothing is owed, the card is not saved, and the failure is on record.
    state = await subscription_state(gql, key, created["subscription"]["id"])
    assert state["status"] == "FAILED"
    assert state["outstandingAmount"]["amount"] == 0
    assert state["paymentMethod"] is None
    billing = await billing_of(gql, key, customer_id)
    assert billing["paymentMethods"] == []
    assert [e["node"]["failureCode"] for e in billing["payments"]["edges"]] == [code]
    assert [e["node"]["status"] for e in billing["invoices"]["edges"]] == ["VOID"]


async def test_an_invalid_card_is_refused_before_anything_is_made(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key)
    last_year = datetime.now(UTC).year - 1

    for bad_card, code in (
        (card("4242424242424241"), "INVALID_CARD_NUMBER"),
        ({**GOOD_CARD, "expYear": last_year}, "EXPIRED_CARD"),
    ):
        response = await gql.raw(
            CREATE_SUBSCRIPTION,
            {"input": {"customerId": customer_id, "productId": product_id, "card": bad_card}},
            token=key,
        )
        assert bad_card["number"] not in response.text
        payload = response.json()["data"]["createSubscription"]
        assert codes(payload) == [code], payload
        assert payload["subscription"] is None and payload["payment"] is None

    billing = await billing_of(gql, key, customer_id)
    assert billing["subscriptions"]["totalCount"] == 0
    assert billing["invoices"]["totalCount"] == 0
    assert billing["payments"]["totalCount"] == 0


async def test_one_time_payment_is_paid_and_products_must_fit_the_operation(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    once = await create_product(gql, key, amount=4900, interval=None, name="Setup fee")
    monthly = await create_product(gql, key, amount=1500, interval="MONTH")

    paid = (
        await gql(
            CREATE_PAYMENT,
            {"input": {"customerId": customer_id, "productId": once, "card": GOOD_CARD}},
            token=key,
        )
    )["createPayment"]
    assert paid["userErrors"] == []
    assert paid["payment"]["status"] == "SUCCEEDED"
    assert paid["payment"]["amount"] == {"amount": 4900, "currency": "EUR"}
    assert paid["payment"]["subscription"] is None
    assert paid["payment"]["paymentMethod"] == {"brand": "visa", "last4": "4242"}
    assert paid["invoice"]["status"] == "PAID"
    assert paid["invoice"]["total"] == {"amount": 4900, "currency": "EUR"}
    assert paid["invoice"]["amountDue"]["amount"] == 0
    assert paid["invoice"]["paidAt"] is not None
    assert paid["invoice"]["subscription"] is None
    await deliver_mail(portal.settings)
    [receipt] = smtp.to("ada@example.com")
    assert paid["invoice"]["number"] in text_body(receipt)

    before = await billing_of(gql, key, customer_id)
    assert before["payments"]["totalCount"] == 1
    assert before["subscriptions"]["totalCount"] == 0

    # A recurring product cannot be bought once...
    wrong = (
        await gql(
            CREATE_PAYMENT,
            {"input": {"customerId": customer_id, "productId": monthly, "card": GOOD_CARD}},
            token=key,
        )
    )["createPayment"]
    assert codes(wrong) == ["INVALID_PRODUCT"]
    assert wrong["payment"] is None and wrong["invoice"] is None

    # ...and a one-time product cannot be subscribed to.
    wrong_sub = (
        await gql(
            CREATE_SUBSCRIPTION,
            {"input": {"customerId": customer_id, "productId": once, "card": GOOD_CARD}},
            token=key,
        )
    )["createSubscription"]
    assert codes(wrong_sub) == ["INVALID_PRODUCT"]
    assert wrong_sub["subscription"] is None and wrong_sub["payment"] is None

    assert await billing_of(gql, key, customer_id) == before


async def test_one_time_payment_with_a_declined_card_is_recorded_and_voided(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    once = await create_product(gql, key, amount=4900, interval=None, name="Setup fee")

    failed = (
        await gql(
            CREATE_PAYMENT,
            {
                "input": {
                    "customerId": customer_id,
                    "productId": once,
                    "card": card("4000000000009995"),
                }
            },
            token=key,
        )
    )["createPayment"]
    assert codes(failed) == ["INSUFFICIENT_FUNDS"]
    assert failed["payment"]["status"] == "FAILED"
    assert failed["payment"]["failureCode"] == "INSUFFICIENT_FUNDS"
    assert failed["invoice"]["status"] == "VOID"
    assert (await billing_of(gql, key, customer_id))["paymentMethods"] == []


async def test_live_mode_refuses_raw_cards_and_creates_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.live_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    monthly = await create_product(gql, key, amount=1500)
    once = await create_product(gql, key, amount=4900, interval=None, name="Setup fee")

    for mutation, product_id, name in (
        (CREATE_SUBSCRIPTION, monthly, "createSubscription"),
        (CREATE_PAYMENT, once, "createPayment"),
    ):
        response = await gql.raw(
            mutation,
            {"input": {"customerId": customer_id, "productId": product_id, "card": GOOD_CARD}},
            token=key,
        )
        assert GOOD_CARD["number"] not in response.text
        payload = response.json()["data"][name]
        assert codes(payload) == ["LIVE_PAYMENTS_NOT_CONFIGURED"], payload
        assert "configurePaymentGateway" in payload["userErrors"][0]["message"]
        assert payload["payment"] is None and payload["invoice"] is None

    billing = await billing_of(gql, key, customer_id)
    assert billing["subscriptions"]["totalCount"] == 0
    assert billing["invoices"]["totalCount"] == 0
    assert billing["payments"]["totalCount"] == 0
    assert billing["paymentMethods"] == []


async def test_live_mode_with_a_card_on_file_answers_the_configuration_error_and_creates_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.live_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    monthly = await create_product(gql, key, amount=1500)
    once = await create_product(gql, key, amount=4900, interval=None, name="Setup fee")
    # A card saved while a processor was configured (the API cannot save live cards without one).
    method = await PaymentMethod.create(
        business_id=acme.business.id,
        mode=Mode.LIVE,
        customer_id=customer_id,
        gateway_token="tok_live_from_processor",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2034,
    )

    for mutation, product_id, name in (
        (CREATE_SUBSCRIPTION, monthly, "createSubscription"),
        (CREATE_PAYMENT, once, "createPayment"),
    ):
        payload = (
            await gql(
                mutation,
                {
                    "input": {
                        "customerId": customer_id,
                        "productId": product_id,
                        "paymentMethodId": method.id,
                    }
                },
                token=key,
            )
        )[name]
        assert codes(payload) == ["LIVE_PAYMENTS_NOT_CONFIGURED"], payload
        assert payload["payment"] is None and payload["invoice"] is None

    # No half-made subscription, no open invoice, no payment stuck in PROCESSING.
    billing = await billing_of(gql, key, customer_id)
    assert billing["subscriptions"]["totalCount"] == 0, billing
    assert billing["invoices"]["totalCount"] == 0, billing
    assert billing["payments"]["totalCount"] == 0, billing


# Saved cards and the subscriptions they pay for


async def test_a_card_in_use_cannot_be_removed_until_the_subscription_switches(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key)
    created = await subscribe(gql, key, customer_id, product_id)
    sub_id = created["subscription"]["id"]
    first_card = created["subscription"]["paymentMethod"]["id"]
    session = await session_for(gql, key, customer_id)
    second_card = (
        await gql(ADD_PAYMENT_METHOD, {"input": {"card": card("5555555555554444")}}, token=session)
    )["addPaymentMethod"]["paymentMethod"]["id"]

    refused = (
        await gql(REMOVE_PAYMENT_METHOD, {"input": {"paymentMethodId": first_card}}, token=session)
    )["removePaymentMethod"]
    assert codes(refused) == ["PAYMENT_METHOD_IN_USE"]
    assert refused["paymentMethod"] is None
    mine = (await gql(MY_CARDS, token=session))["me"]["paymentMethods"]
    assert {m["id"] for m in mine} == {first_card, second_card}

    # Switch the subscription to the other saved card: nothing is charged.
    switched = (
        await gql(
            UPDATE_PAYMENT_METHOD,
            {"input": {"subscriptionId": sub_id, "paymentMethodId": second_card}},
            token=session,
        )
    )["updatePaymentMethod"]
    assert switched["userErrors"] == []
    assert switched["payment"] is None
    assert switched["subscription"]["paymentMethod"]["id"] == second_card
    assert switched["subscription"]["status"] == "ACTIVE"

    removed = (
        await gql(REMOVE_PAYMENT_METHOD, {"input": {"paymentMethodId": first_card}}, token=session)
    )["removePaymentMethod"]
    assert removed["userErrors"] == []
    assert removed["paymentMethod"] == {"id": first_card, "last4": "4242"}
    mine = (await gql(MY_CARDS, token=session))["me"]["paymentMethods"]
    assert [m["id"] for m in mine] == [second_card]
    assert code_of(await gql.error(NODE, {"id": first_card}, token=session)) == "NOT_FOUND"

    # A removed card is gone: it cannot be removed again nor used for the subscription.
    again = (
        await gql(REMOVE_PAYMENT_METHOD, {"input": {"paymentMethodId": first_card}}, token=session)
    )["removePaymentMethod"]
    assert codes(again) == ["NOT_FOUND"]
    reuse = (
        await gql(
            UPDATE_PAYMENT_METHOD,
            {"input": {"subscriptionId": sub_id, "paymentMethodId": first_card}},
            token=session,
        )
    )["updatePaymentMethod"]
    assert codes(reuse) == ["NOT_FOUND"]
    state = await subscription_state(gql, key, sub_id)
    assert state["status"] == "ACTIVE"
    assert state["paymentMethod"]["id"] == second_card


async def test_another_customers_card_is_not_found(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    ada = await create_customer(gql, key, "ada@example.com", "Ada")
    bob = await create_customer(gql, key, "bob@example.com", "Bob")
    product_id = await create_product(gql, key)
    ada_sub = (await subscribe(gql, key, ada, product_id))["subscription"]["id"]
    ada_session = await session_for(gql, key, ada)
    bob_session = await session_for(gql, key, bob)
    bobs_card = (await gql(ADD_PAYMENT_METHOD, {"input": {"card": GOOD_CARD}}, token=bob_session))[
        "addPaymentMethod"
    ]["paymentMethod"]["id"]

    removed = (
        await gql(
            REMOVE_PAYMENT_METHOD, {"input": {"paymentMethodId": bobs_card}}, token=ada_session
        )
    )["removePaymentMethod"]
    assert codes(removed) == ["NOT_FOUND"]
    assert removed["paymentMethod"] is None

    # Nor can Ada pay her subscription with Bob's card.
    borrowed = (
        await gql(
            UPDATE_PAYMENT_METHOD,
            {"input": {"subscriptionId": ada_sub, "paymentMethodId": bobs_card}},
            token=ada_session,
        )
    )["updatePaymentMethod"]
    assert codes(borrowed) == ["NOT_FOUND"]
    assert (await subscription_state(gql, key, ada_sub))["paymentMethod"]["last4"] == "4242"

    bobs = (await gql(MY_CARDS, token=bob_session))["me"]["paymentMethods"]
    assert [m["id"] for m in bobs] == [bobs_card]


# Cancellation


async def test_cancel_at_period_end_keeps_it_active_and_can_be_undone(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key)
    created = await subscribe(gql, key, customer_id, product_id)
    sub_id = created["subscription"]["id"]
    next_billing = created["subscription"]["nextBillingDate"]
    session = await session_for(gql, key, customer_id)

    stored_reasons: list[str | None] = []
    for reason in REASONS:
        cancelled = (
            await gql(
                CANCEL,
                {
                    "input": {
                        "subscriptionId": sub_id,
                        "atPeriodEnd": True,
                        "reason": reason,
                        "comment": f"  because {reason}  ",
                    }
                },
                token=session,
            )
        )["cancelSubscription"]
        assert cancelled["userErrors"] == [], reason
        sub = cancelled["subscription"]
        assert sub["status"] == "ACTIVE"
        assert sub["cancelAtNextBillingDate"] is True
        assert sub["cancelledAt"] is None
        assert sub["nextBillingDate"] == next_billing

        # Stored: the merchant sees the reason and the comment.
        stored = await subscription_state(gql, key, sub_id)
        assert stored["cancelAtNextBillingDate"] is True
        stored_reasons.append(stored["cancellationReason"])
        assert stored["cancellationComment"] == f"because {reason}"

        undone = (await gql(UNDO, {"input": {"subscriptionId": sub_id}}, token=session))[
            "undoCancellation"
        ]
        assert undone["userErrors"] == []
        assert undone["subscription"]["cancelAtNextBillingDate"] is False
        assert undone["subscription"]["status"] == "ACTIVE"
        assert undone["subscription"]["cancellationReason"] is None
        stored = await subscription_state(gql, key, sub_id)
        assert stored["cancelAtNextBillingDate"] is False
        assert stored["nextBillingDate"] == next_billing

    # Nothing pending to undo.
    nothing = (await gql(UNDO, {"input": {"subscriptionId": sub_id}}, token=session))[
        "undoCancellation"
    ]
    assert codes(nothing) == ["INVALID_STATE"]

    # An unknown reason is not accepted.
    error = await gql.error(
        CANCEL,
        {"input": {"subscriptionId": sub_id, "atPeriodEnd": True, "reason": "BORED"}},
        token=session,
    )
    assert code_of(error) == "BAD_USER_INPUT"
    assert (await subscription_state(gql, key, sub_id))["cancelAtNextBillingDate"] is False

    # The stored reason reads back as the enum value that was sent, so a client can show it
    # and send it again.
    assert stored_reasons == REASONS


async def test_cancel_now_ends_it_and_emails_the_customer(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key, name="Pro plan")
    sub_id = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
    session = await session_for(gql, key, customer_id)
    await deliver_mail(portal.settings)
    smtp.messages.clear()

    clock.advance(timedelta(hours=3))
    cancelled = (
        await gql(
            CANCEL,
            {"input": {"subscriptionId": sub_id, "reason": "UNUSED", "comment": "Not needed"}},
            token=session,
        )
    )["cancelSubscription"]
    assert cancelled["userErrors"] == []
    sub = cancelled["subscription"]
    assert sub["status"] == "CANCELLED"
    assert datetime.fromisoformat(sub["cancelledAt"]) == clock.now()
    assert sub["cancellationComment"] == "Not needed"

    state = await subscription_state(gql, key, sub_id)
    assert state["status"] == "CANCELLED"
    assert state["cancelledAt"] == sub["cancelledAt"]
    active = (await gql(MY_SUBSCRIPTIONS, {"status": "ACTIVE"}, token=session))["me"]
    assert active["subscriptions"]["totalCount"] == 0

    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("ada@example.com")
    assert "Pro plan" in str(mail["Subject"])
    assert "cancelled" in str(mail["Subject"]).lower()

    # A cancelled subscription cannot be cancelled again, nor resumed.
    for at_period_end in (False, True):
        again = (
            await gql(
                CANCEL,
                {"input": {"subscriptionId": sub_id, "atPeriodEnd": at_period_end}},
                token=session,
            )
        )["cancelSubscription"]
        assert codes(again) == ["INVALID_STATE"]
        assert again["subscription"] is None
    undo = (await gql(UNDO, {"input": {"subscriptionId": sub_id}}, token=session))[
        "undoCancellation"
    ]
    assert codes(undo) == ["INVALID_STATE"]
    after = await subscription_state(gql, key, sub_id)
    assert after["status"] == "CANCELLED"
    assert after["cancelledAt"] == sub["cancelledAt"]
    assert after["cancellationReason"] == state["cancellationReason"]
    assert await deliver_mail(portal.settings) == 0


async def test_another_customers_subscription_cannot_be_cancelled(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    ada = await create_customer(gql, key, "ada@example.com", "Ada")
    bob = await create_customer(gql, key, "bob@example.com", "Bob")
    product_id = await create_product(gql, key)
    ada_sub = (await subscribe(gql, key, ada, product_id))["subscription"]["id"]
    bob_session = await session_for(gql, key, bob)

    for at_period_end in (False, True):
        attempt = (
            await gql(
                CANCEL,
                {"input": {"subscriptionId": ada_sub, "atPeriodEnd": at_period_end}},
                token=bob_session,
            )
        )["cancelSubscription"]
        assert codes(attempt) == ["NOT_FOUND"]
        assert attempt["subscription"] is None
    undo = (await gql(UNDO, {"input": {"subscriptionId": ada_sub}}, token=bob_session))[
        "undoCancellation"
    ]
    assert codes(undo) == ["NOT_FOUND"]
    state = await subscription_state(gql, key, ada_sub)
    assert state["status"] == "ACTIVE"
    assert state["cancelAtNextBillingDate"] is False
    # Nor can Bob read it.
    error = await gql.error(SUBSCRIPTION, {"id": ada_sub}, token=bob_session)
    assert code_of(error) == "NOT_FOUND"


# The customer's lists and node(id:)


async def test_my_subscriptions_filter_by_status_and_show_what_is_owed(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key, amount=1500)
    session = await session_for(gql, key, customer_id)

    failed = (await subscribe(gql, key, customer_id, product_id, "4000000000000002"))[
        "subscription"
    ]["id"]
    clock.advance(timedelta(minutes=1))
    active = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
    clock.advance(timedelta(minutes=1))
    on_hold = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
    # Its card now declines every charge, and its renewal is due: it goes ON_HOLD.
    swapped = await gql(
        UPDATE_PAYMENT_METHOD,
        {"input": {"subscriptionId": on_hold, "card": card(DECLINE_ON_CHARGE)}},
        token=session,
    )
    assert swapped["updatePaymentMethod"]["userErrors"] == []
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    moved = await gql(
        UPDATE_SUBSCRIPTION,
        {"input": {"subscriptionId": on_hold, "nextBillingDate": past}},
        token=key,
    )
    assert moved["updateSubscription"]["userErrors"] == []
    cycle = (await gql(RUN_BILLING_CYCLE, token=key))["runBillingCycle"]
    assert cycle["failedCount"] == 1 and cycle["renewedCount"] == 0

    everything = (await gql(MY_SUBSCRIPTIONS, token=session))["me"]["subscriptions"]
    assert everything["totalCount"] == 3
    by_id = {e["node"]["id"]: e["node"] for e in everything["edges"]}
    assert [e["node"]["id"] for e in everything["edges"]] == [on_hold, active, failed]
    assert by_id[on_hold]["outstandingAmount"] == {"amount": 1500, "currency": "EUR"}
    assert by_id[active]["outstandingAmount"] == {"amount": 0, "currency": "EUR"}
    assert by_id[failed]["outstandingAmount"] == {"amount": 0, "currency": "EUR"}

    for status, expected in (
        ("ACTIVE", [active]),
        ("ON_HOLD", [on_hold]),
        ("FAILED", [failed]),
        ("CANCELLED", []),
    ):
        filtered = (await gql(MY_SUBSCRIPTIONS, {"status": status}, token=session))["me"][
            "subscriptions"
        ]
        assert [e["node"]["id"] for e in filtered["edges"]] == expected, status
        assert {e["node"]["status"] for e in filtered["edges"]} <= {status}
        assert filtered["totalCount"] == len(expected)


async def test_lists_are_newest_first_and_page_with_cursors(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key)
    session = await session_for(gql, key, customer_id)
    created: list[dict[str, Any]] = []
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        created.append(await subscribe(gql, key, customer_id, product_id))
    newest_first = list(reversed(created))
    expected = {
        "subscriptions": [c["subscription"]["id"] for c in newest_first],
        "invoices": [c["invoice"]["id"] for c in newest_first],
        "payments": [c["payment"]["id"] for c in newest_first],
    }

    for field, ids in expected.items():
        query = (
            "query($after: String) { me { "
            + field
            + "(first: 2, after: $after) { totalCount edges { cursor node { id } }"
            " pageInfo { hasNextPage endCursor } } } }"
        )
        first = (await gql(query, token=session))["me"][field]
        assert first["totalCount"] == 3
        assert [e["node"]["id"] for e in first["edges"]] == ids[:2], field
        assert first["pageInfo"]["hasNextPage"] is True
        assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
        rest = (await gql(query, {"after": first["pageInfo"]["endCursor"]}, token=session))["me"][
            field
        ]
        assert [e["node"]["id"] for e in rest["edges"]] == ids[2:], field
        assert rest["pageInfo"]["hasNextPage"] is False
        # The merchant sees the same list for this customer.
        merchant_query = query.replace("me {", "customer(id: $id) {").replace(
            "query($after: String)", "query($after: String, $id: ID!)"
        )
        merchant = (await gql(merchant_query, {"id": customer_id}, token=key))["customer"][field]
        assert [e["node"]["id"] for e in merchant["edges"]] == ids[:2], field


async def test_node_resolves_own_billing_objects_only(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    ada = await create_customer(gql, key, "ada@example.com", "Ada")
    bob = await create_customer(gql, key, "bob@example.com", "Bob")
    product_id = await create_product(gql, key)
    created = await subscribe(gql, key, ada, product_id)
    ada_session = await session_for(gql, key, ada)
    bob_session = await session_for(gql, key, bob)
    objects = {
        created["subscription"]["id"]: ("Subscription", {"status": "ACTIVE"}),
        created["payment"]["id"]: ("Payment", {"paymentStatus": "SUCCEEDED"}),
        created["invoice"]["id"]: ("Invoice", {"number": created["invoice"]["number"]}),
        created["subscription"]["paymentMethod"]["id"]: ("PaymentMethod", {"last4": "4242"}),
    }

    for object_id, (typename, fields) in objects.items():
        for owner in (ada_session, key):
            node = (await gql(NODE, {"id": object_id}, token=owner))["node"]
            assert node == {"__typename": typename, "id": object_id, **fields}
        for stranger in (bob_session, globex.test_api_key, acme.live_api_key):
            error = await gql.error(NODE, {"id": object_id}, token=stranger)
            assert code_of(error) == "NOT_FOUND", (typename, error)


# What the merchant may change


async def test_merchant_sets_cancel_at_next_billing_date_and_moves_the_date(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada")
    product_id = await create_product(gql, key)
    sub_id = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
    session = await session_for(gql, key, customer_id)

    flagged = (
        await gql(
            UPDATE_SUBSCRIPTION,
            {"input": {"subscriptionId": sub_id, "cancelAtNextBillingDate": True}},
            token=key,
        )
    )["updateSubscription"]
    assert flagged["userErrors"] == []
    assert flagged["subscription"]["cancelAtNextBillingDate"] is True
    assert flagged["subscription"]["status"] == "ACTIVE"
    # The customer sees it, and can keep the subscription after all.
    seen = await subscription_state(gql, session, sub_id)
    assert seen["cancelAtNextBillingDate"] is True
    kept = (await gql(UNDO, {"input": {"subscriptionId": sub_id}}, token=session))[
        "undoCancellation"
    ]
    assert kept["subscription"]["cancelAtNextBillingDate"] is False

    later = datetime(2031, 1, 15, 9, 30, tzinfo=UTC)
    moved = (
        await gql(
            UPDATE_SUBSCRIPTION,
            {"input": {"subscriptionId": sub_id, "nextBillingDate": later.isoformat()}},
            token=key,
        )
    )["updateSubscription"]
    assert moved["userErrors"] == []
    assert datetime.fromisoformat(moved["subscription"]["nextBillingDate"]) == later
    before = await subscription_state(gql, key, sub_id)

    # Another business's key: no such subscription, and nothing changes.
    foreign = (
        await gql(
            UPDATE_SUBSCRIPTION,
            {
                "input": {
                    "subscriptionId": sub_id,
                    "cancelAtNextBillingDate": True,
                    "nextBillingDate": "2030-01-01T00:00:00+00:00",
                }
            },
            token=globex.test_api_key,
        )
    )["updateSubscription"]
    assert codes(foreign) == ["NOT_FOUND"]
    assert foreign["subscription"] is None
    # A date without a time zone is refused.
    naive = (
        await gql(
            UPDATE_SUBSCRIPTION,
            {"input": {"subscriptionId": sub_id, "nextBillingDate": "2030-01-01T00:00:00"}},
            token=key,
        )
    )["updateSubscription"]
    assert naive["userErrors"] and naive["subscription"] is None
    # And the customer cannot change it through the merchant's operation.
    error = await gql.error(
        UPDATE_SUBSCRIPTION,
        {"input": {"subscriptionId": sub_id, "cancelAtNextBillingDate": True}},
        token=session,
    )
    assert code_of(error) == "UNAUTHENTICATED"
    assert await subscription_state(gql, key, sub_id) == before
