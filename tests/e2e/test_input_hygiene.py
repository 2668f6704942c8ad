"""Input that an outside probe sent: card data beside an unknown field, NUL bytes and other
control characters, crafted cursors, oversized arguments. Each is a clear BAD_USER_INPUT (or a
plain NOT_FOUND), changes nothing, and neither the answer nor the log quotes it. Production
answers no "Did you mean …?" and sends Strict-Transport-Security."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime

import pytest

from conftest import Portal, make_portal
from models import Customer
from services.businesses import NewBusiness
from support import code_of, create_customer, session_for

ADD_CARD = """
mutation($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) { paymentMethod { id } userErrors { code field } }
}"""


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        record.getMessage() + (caplog.text if record.exc_info else "") for record in caplog.records
    )


@pytest.mark.parametrize(
    "number", ["4242  4242  4242  4242", "4242.4242.4242.4242", "4242 - 4242 - 4242 - 4242"]
)
async def test_card_data_beside_an_unknown_field_is_never_echoed(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture, number: str
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "card@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    caplog.set_level(logging.DEBUG)
    card = {"number": number, "expMonth": 11, "expYear": 2037, "cvc": "737", "zip": "10115-ZQ"}
    as_variable = await portal.gql.raw(ADD_CARD, {"input": {"card": card}}, token=session)
    missing = {key: value for key, value in card.items() if key not in ("zip", "cvc")}
    missing_cvc = await portal.gql.raw(ADD_CARD, {"input": {"card": missing}}, token=session)
    inline = await portal.gql.raw(
        f'mutation {{ addPaymentMethod(input: {{card: {{number: "{number}", expMonth: 11, '
        'expYear: 2037, cvc: "737", zip: "10115-ZQ"}}) { userErrors { code } } }',
        token=session,
    )
    for response in (as_variable, missing_cvc, inline):
        body = response.json()
        [error] = body["errors"]
        assert code_of(error) == "BAD_USER_INPUT"
        assert "CardInput" in error["message"]  # it still says what is wrong
        for value in (number, number.replace(" ", ""), "4242", "737", "2037", "10115"):
            assert value not in response.text, (value, response.text)
    # (Only values that cannot occur by chance in a hex hash or an id of the debug log.)
    text = logged(caplog)
    for value in (number, number.replace(" ", ""), "10115-ZQ"):
        assert value not in text


async def test_no_input_error_quotes_the_value(portal: Portal, acme: NewBusiness) -> None:
    secret = "zz-client-value-zz"
    for query, variables in (
        (
            "query($s: SubscriptionStatus) { customers { edges { node { "
            "subscriptions(status: $s) { totalCount } } } } }",
            {"s": secret},
        ),
        ("query($n: Int) { customers(first: $n) { totalCount } }", {"n": secret}),
        (
            "mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"subscriptionId": "sub_x", "nextBillingDate": secret}},
        ),
        (f'{{ customers(first: "{secret}") {{ totalCount }} }}', {}),
    ):
        response = await portal.gql.raw(query, variables, token=acme.test_api_key)
        assert code_of(response.json()["errors"][0]) == "BAD_USER_INPUT"
        assert secret not in response.text


CONTROL_CHARACTERS = ["\u0000", "\u0007", "\u001b[31m", "\u202e", "\u2066", "\u0085", "\ud800"]


@pytest.mark.parametrize("bad", CONTROL_CHARACTERS, ids=repr)
async def test_control_characters_are_bad_input_and_change_nothing(
    portal: Portal, acme: NewBusiness, bad: str
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "ctl@example.com", "Ctl")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    calls = [
        (
            "mutation($i: RequestLoginLinkInput!) { requestLoginLink(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"businessId": acme.business.id, "email": f"ctl{bad}@example.com"}},
            None,
        ),
        (
            "query($id: ID!) { portalBranding(businessId: $id) { name } }",
            {"id": f"bus_{bad}"},
            None,
        ),
        (
            "mutation($i: ActivateLicenseKeyInput!) { activateLicenseKey(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"key": f"TEST-{bad}", "name": "laptop"}},
            None,
        ),
        (
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"email": "other@example.com", "name": f"Evil{bad}Name"}},
            acme.test_api_key,
        ),
        (
            "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"name": f"Ctl{bad}"}},
            session,
        ),
    ]
    for query, variables, token in calls:
        # Sent as JSON with \u escapes, as a client would send a lone surrogate.
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await portal.http.post(
            "/graphql",
            content=json.dumps({"query": query, "variables": variables}),
            headers=headers,
        )
        body = response.json()
        assert body.get("data") is None, body
        assert code_of(body["errors"][0]) == "BAD_USER_INPUT", body
    # The same inside the document
    literal = await portal.gql.raw(
        'mutation { createCustomer(input: {email: "lit@example.com", name: "A\\u0000B"}) '
        "{ userErrors { code } } }",
        token=acme.test_api_key,
    )
    assert code_of(literal.json()["errors"][0]) == "BAD_USER_INPUT"
    # Nothing was stored or changed.
    assert await Customer.filter(business_id=acme.business.id).count() == 1
    customer = await Customer.get(id=customer_id)
    assert customer.name == "Ctl"


async def test_line_breaks_and_tabs_in_free_text_are_fine(
    portal: Portal, acme: NewBusiness
) -> None:
    data = await portal.gql(
        "mutation($i: CreateProductInput!) { createProduct(input: $i) "
        "{ product { description } userErrors { code } } }",
        {
            "i": {
                "name": "Plan",
                "description": "Line one\n\tLine two\r\nÜmlaut, 日本語, עברית",
                "price": {"amount": 100, "currency": "EUR"},
            }
        },
        token=acme.test_api_key,
    )
    assert data["createProduct"]["product"]["description"].startswith("Line one\n\tLine two")


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31T23:59:59-05:00|sub_0000000000000000000000000",
        "0001-01-01T00:00:00+05:00|sub_0000000000000000000000000",
        f"{datetime(2026, 1, 1, tzinfo=UTC).isoformat()}|{'x' * 40_000}",
        "2026-01-01T00:00:00+00:00|sub_\u0000",
        "not a cursor",
    ],
    ids=["year-9999", "year-1", "40k-id", "nul", "garbage"],
)
async def test_crafted_cursors_are_bad_user_input(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture, raw: str
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "cur@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    cursor = _cursor(raw)
    caplog.set_level(logging.DEBUG, logger="portal")
    for field in ("invoices", "subscriptions", "payments", "licenseKeys"):
        response = await portal.gql.raw(
            f"query($c: String) {{ me {{ {field}(after: $c) {{ totalCount }} }} }}",
            {"c": cursor},
            token=session,
        )
        [error] = response.json()["errors"]
        assert code_of(error) == "BAD_USER_INPUT", (field, error)
    for query in (
        "query($c: String) { customers(after: $c) { totalCount } }",
        "query($c: String) { products(after: $c) { totalCount } }",
        "query($c: String) { webhookEvents(after: $c) { totalCount } }",
    ):
        response = await portal.gql.raw(query, {"c": cursor}, token=acme.test_api_key)
        assert code_of(response.json()["errors"][0]) == "BAD_USER_INPUT", response.text
    assert cursor not in logged(caplog)
    assert "x" * 100 not in logged(caplog)


async def test_oversized_arguments_are_bad_input_or_not_found(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="portal")
    huge = "a" * 60_000
    by_email = await portal.gql.raw(
        "query($e: String) { customers(email: $e) { totalCount } }",
        {"e": huge + "@example.com"},
        token=acme.test_api_key,
    )
    assert code_of(by_email.json()["errors"][0]) == "BAD_USER_INPUT"
    for query in (
        "query($id: ID!) { node(id: $id) { id } }",
        "query($id: ID!) { customer(id: $id) { id } }",
        "query($id: ID!) { subscription(id: $id) { id } }",
    ):
        response = await portal.gql.raw(
            query, {"id": "cus_" + "x" * 40_000}, token=acme.test_api_key
        )
        assert code_of(response.json()["errors"][0]) == "NOT_FOUND", response.text
    pdf = await portal.http.get(
        f"/invoices/inv_{'x' * 5000}.pdf", headers={"Authorization": f"Bearer {acme.test_api_key}"}
    )
    assert pdf.status_code == 404
    assert huge not in logged(caplog) and "x" * 1000 not in logged(caplog)


async def test_production_gives_no_suggestions_and_sends_hsts(
    portal: Portal, acme: NewBusiness
) -> None:
    development = await portal.gql.raw("{ customerz { id } }", token=acme.test_api_key)
    assert "Did you mean" in development.text
    production = portal.with_settings(env="production", public_url="https://portal.example")
    http, gql = await make_portal(production)
    async with http:
        for query in (
            "{ customerz { id } }",
            "{ customers { edgez { node { id } } } }",
            "{ customers(firts: 2) { totalCount } }",
        ):
            response = await gql.raw(query, token=acme.test_api_key)
            assert code_of(response.json()["errors"][0]) == "BAD_USER_INPUT"
            assert "Did you mean" not in response.text
        for path in ("/graphql", "/healthz", f"/login/{acme.business.id}"):
            response = await http.get(path)
            assert response.headers["strict-transport-security"] == (
                "max-age=63072000; includeSubDomains"
            )
    assert "strict-transport-security" not in (await portal.http.get("/healthz")).headers
