"""schema/query_plans answers exactly as graphql-core does: each query runs on two schemas that
differ only in planned execution, for a merchant and a customer, over one business's data in
every state, and the answers (data and errors) must be equal. The portal's dashboard and the
hosted pages' queries are answered by their plans (a test fails if the plans stop being used);
what a plan does not handle, or any run that meets an error, is graphql-core's."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from conftest import Portal
from models import Mode
from models.clock import clock
from resolvers.context import Context
from schema import build_schema
from services.access.principal import Principal, PrincipalKind
from services.businesses import NewBusiness
from support import (
    DASHBOARD,
    answer_of,
    card,
    create_customer,
    create_product,
    schema_context,
    session_for,
    subscribe,
)

PLANNED = build_schema(compiled=False)  # the customer's compiled queries: their own test
PLAIN = build_schema(plans=False)

CUSTOMER_QUERIES: list[tuple[str, dict[str, Any]]] = [
    (DASHBOARD, {}),
    # aliases, fragments, __typename, cursors and pageInfo, variables, nulls
    (
        """query Q($n: Int, $s: SubscriptionStatus) {
          __typename
          me { __typename ...Me
            held: subscriptions(first: $n, status: $s) { totalCount edges { cursor node {
              id status cancelledAt cancellationReason product { name description } } }
              pageInfo { hasNextPage endCursor } }
          }
        }
        fragment Me on Customer { id email name phoneNumber locale createdAt
          a: invoices(first: 2) { edges { node { ... on Invoice { number periodStart paidAt
            subscription { id status outstandingAmount { amount formatted } } } } }
            pageInfo { hasNextPage endCursor } }
          b: invoices(first: 2) { edges { node { id total { currency } } } }
        }""",
        {"n": 2, "s": "ON_HOLD"},
    ),
    # license keys with resolvers of their own; payments with their related objects
    (
        """{ me { licenseKeys { totalCount edges { node { id key status activationsLimit
            instancesCount expiresAt product { id name price { amount } }
            instances { id name } } } }
          payments(first: 5) { edges { node { id status failureCode amount { amount }
            invoice { number status } subscription { status } paymentMethod { last4 } } } }
          paymentMethods { id brand last4 expMonth expYear } } }""",
        {},
    ),
    (
        "{ business { id name supportEmail portalLoginUrl locale branding { name accentColor "
        "accentContrastColor linkColor logoUrl } } }",
        {},
    ),
    # not planned: an abstract type, a directive, introspection
    ("query($id: ID!) { node(id: $id) { id ... on Customer { email } } }", {"id": "cus_x"}),
    ("query($yes: Boolean!) { me { id email @include(if: $yes) } }", {"yes": False}),
    ('{ __type(name: "Customer") { name } }', {}),
    # errors: a customer's session asking for the merchant's list, a wrong id, a bad cursor
    ("{ customers { totalCount } }", {}),
    ("query($id: ID!) { subscription(id: $id) { id } }", {"id": "sub_000000000000000000000000"}),
    ('{ me { invoices(after: "nope") { totalCount } } }', {}),
]

MERCHANT_QUERIES: list[tuple[str, dict[str, Any]]] = [
    (
        """{ customers(first: 10) { totalCount edges { node { id email
            subscriptions { edges { node { id status price { amount formatted }
              paymentMethod { brand } product { name isRecurring interval intervalCount } } } }
            invoices(first: 3) { edges { node { number amountDue { amount } } } } } } } }""",
        {},
    ),
    (
        "query($e: String) { customers(email: $e) { edges { node { id name } } } }",
        {"e": "ADA@example.com"},
    ),
    ("query($id: ID!) { customer(id: $id) { id email paymentMethods { id } } }", {"id": None}),
    ("{ me { id } }", {}),  # a merchant has no `me`: UNAUTHENTICATED
]


async def _world(portal: Portal, acme: NewBusiness) -> tuple[str, str]:
    key = acme.test_api_key
    ada = await create_customer(portal.gql, key, "ada@example.com", "Ada")
    await create_customer(portal.gql, key, "bob@example.com", "Bob")
    plan = await create_product(portal.gql, key, amount=1500, licenseKeyEnabled=True)
    once = await create_product(portal.gql, key, amount=900, interval=None, name="E-book")
    await subscribe(portal.gql, key, ada, plan)
    await subscribe(portal.gql, key, ada, plan, number="4000000000000341")  # fails: FAILED
    await portal.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { userErrors { code } } }",
        {"i": {"customerId": ada, "productId": once, "card": card("4242424242424242")}},
        token=key,
    )
    session = await session_for(portal.gql, key, ada)
    keys = await portal.gql("{ me { licenseKeys { edges { node { key } } } } }", token=session)
    license_key = keys["me"]["licenseKeys"]["edges"][0]["node"]["key"]
    await portal.gql(
        "mutation($i: ActivateLicenseKeyInput!) { activateLicenseKey(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"key": license_key, "name": "laptop"}},
    )
    return ada, session


def _context(portal: Portal, principal: Principal) -> Context:
    return schema_context(portal.settings, principal)


async def test_plans_answer_as_graphql_core_does(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    customer_id, _ = await _world(portal, acme)
    business_id = acme.business.id
    customer = Principal(PrincipalKind.CUSTOMER, business_id, Mode.TEST, customer_id, "ses_x")
    merchant = Principal(PrincipalKind.MERCHANT, business_id, Mode.TEST, api_key_id="key_x")
    cases = [(customer, q, v) for q, v in CUSTOMER_QUERIES]
    cases += [(merchant, q, v) for q, v in MERCHANT_QUERIES]
    caplog.set_level(logging.DEBUG, logger="portal.graphql.plans")
    answered = 0
    for principal, query, variables in cases:
        if "$id" in query and variables.get("id") is None and principal is merchant:
            variables = {"id": customer_id}
        caplog.clear()
        clock.freeze()  # both answers sign their PDF links for the same second
        planned = await PLANNED.execute(
            query, variable_values=variables, context_value=_context(portal, principal)
        )
        by_plan = any(r.getMessage() == "answered by its plan" for r in caplog.records)
        answered += by_plan
        plain = await PLAIN.execute(
            query, variable_values=variables, context_value=_context(portal, principal)
        )
        clock.reset()
        assert answer_of(planned) == answer_of(plain), query
        if planned.errors:
            assert not by_plan, query  # a plan only ever answers a query that succeeds
    assert answered == 7  # the ordinary reads (4 of the customer, 3 of the merchant)


async def test_the_dashboard_and_the_pages_are_answered_by_their_plans(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    """The dashboard by its compiled statement (schema/compiled_queries.py), the pages by that
    or by their plans: never by graphql-core."""
    _, session = await _world(portal, acme)
    caplog.set_level(logging.DEBUG, logger="portal.graphql.plans")
    response = await portal.gql.raw(DASHBOARD, token=session)
    assert "errors" not in response.json()
    assert [r.getMessage() for r in caplog.records] == ["answered by its compiled statement"]
    portal.http.cookies.set("portal_session", session)
    for path in (
        "/test/portal",
        "/test/portal/subscriptions",
        "/test/portal/invoices",
        "/test/portal/license-keys",
        "/test/portal/profile",
    ):
        caplog.clear()
        assert (await portal.http.get(path)).status_code == 200, path
        messages = [r.getMessage() for r in caplog.records]
        assert {"answered by its plan", "answered by its compiled statement"} & set(messages), path
