"""schema/compiled_queries answers exactly as graphql-core does: each query of the signed-in
customer runs on a schema with compiled queries and on one without plans at all, over a
customer's data in many states (cancelled with a reason, paused, failed, a one-time purchase, a
removed card, invoices hidden by the business, German money), and the answers must be equal.
Queries with something the compiled statement does not read are answered by their plans, which
the same comparison covers; the compiled ones are known by their log line."""

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
    recorded_statements,
    schema_context,
    session_for,
    subscribe,
)

COMPILED = build_schema()
PLAIN = build_schema(plans=False)
ANSWERED = "answered by its compiled statement"

EVERY_FIELD = """{ me { __typename id email name phoneNumber locale createdAt
  subscriptions(first: 10) { __typename pageInfo { __typename hasNextPage endCursor }
    edges { __typename cursor node { __typename id status
      price { __typename amount currency formatted } interval intervalCount currentPeriodStart
      nextBillingDate cancelAtNextBillingDate cancelledAt cancellationReason
      cancellationComment pausedAt pauseAtNextBillingDate resumeAt createdAt
      product { id name description price { amount currency formatted } isRecurring interval
        intervalCount licenseKeyEnabled licenseKeyActivationsLimit licenseKeyDurationDays
        taxCategory createdAt }
      paymentMethod { id brand last4 expMonth expYear }
      outstandingAmount { amount currency formatted } } } }
  invoices { pageInfo { hasNextPage endCursor } edges { cursor node { id number status
    total { amount currency formatted } amountDue { amount } issuedAt paidAt periodStart
    periodEnd kind subtotal { amount formatted } tax { amount } pdfUrl
    subscription { id status price { amount } product { name } paymentMethod { last4 } } } } }
  payments { edges { node { id status amount { amount formatted } createdAt failureCode
    failureMessage cardBrand cardLast4 refundedAmount { amount } receiptUrl
    invoice { id number pdfUrl subscription { id } } subscription { id status }
    paymentMethod { id last4 } product { id name } } } }
  paymentMethods { __typename id brand last4 expMonth expYear }
} }"""

PAGES = """query($n: Int) { me { ...F
  a: subscriptions(first: $n) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } }
  b: subscriptions(first: 0) { pageInfo { hasNextPage endCursor } edges { node { id } } }
  c: payments(first: 1, after: "") { edges { node { id } } } } }
fragment F on Customer { invoices(first: 1) { pageInfo { hasNextPage endCursor }
  edges { node { ... on Invoice { number } } } } }"""

COMPILED_QUERIES: list[tuple[str, dict[str, Any]]] = [
    (DASHBOARD, {}),
    (EVERY_FIELD, {}),
    (PAGES, {"n": 1}),
    (PAGES, {"n": None}),
    (PAGES, {"n": 500}),  # at most 100
    ("{ __typename me { id } }", {}),
]

# Answered by their plans (or graphql-core): what the statement does not read.
OTHER_QUERIES: list[tuple[str, dict[str, Any]]] = [
    (PAGES, {"n": -1}),  # BAD_USER_INPUT
    ('{ me { invoices(after: "bm9wZQ") { edges { node { id } } } } }', {}),  # a bad cursor
    ("{ me { subscriptions(status: ACTIVE) { edges { node { id } } } } }", {}),
    ("{ me { invoices { totalCount edges { node { id } } } } }", {}),
    ("{ me { invoices { edges { node { id taxRates { rate } } } } } }", {}),
    ("{ me { licenseKeys { edges { node { id } } } } }", {}),
    ("{ me { id } business { name } }", {}),
]


async def _world(portal: Portal, acme: NewBusiness) -> tuple[str, str]:
    """Ada: a running subscription, a failed one, one cancelled with a reason (its card then
    removed), one set to pause at its period end, a one-time purchase."""
    key = acme.test_api_key
    ada = await create_customer(portal.gql, key, "ada@example.com", "Ada")
    await create_customer(portal.gql, key, "bob@example.com", "Bob")
    plan = await create_product(portal.gql, key, amount=1500, licenseKeyEnabled=True)
    once = await create_product(portal.gql, key, amount=900, interval=None, name="E-book")
    await subscribe(portal.gql, key, ada, plan)
    await subscribe(portal.gql, key, ada, plan, number="4000000000000341")  # FAILED
    cancelled = await subscribe(portal.gql, key, ada, plan, number="5555555555554444")
    paused = await subscribe(portal.gql, key, ada, plan)
    await portal.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { userErrors { code } } }",
        {"i": {"customerId": ada, "productId": once, "card": card("4242424242424242")}},
        token=key,
    )
    session = await session_for(portal.gql, key, ada)
    cancel = await portal.gql(
        "mutation($i: CancelSubscriptionInput!) { cancelSubscription(input: $i) "
        "{ subscription { paymentMethod { id } } userErrors { code } } }",
        {
            "i": {
                "subscriptionId": cancelled["subscription"]["id"],
                "reason": "TOO_EXPENSIVE",
                "comment": "Zu teuer",
            }
        },
        token=session,
    )
    assert cancel["cancelSubscription"]["userErrors"] == []
    removed = await portal.gql(
        "mutation($i: RemovePaymentMethodInput!) { removePaymentMethod(input: $i) "
        "{ userErrors { code } } }",
        {
            "i": {
                "paymentMethodId": cancel["cancelSubscription"]["subscription"]["paymentMethod"][
                    "id"
                ]
            }
        },
        token=session,
    )
    assert removed["removePaymentMethod"]["userErrors"] == []
    pause = await portal.gql(
        "mutation($i: PauseSubscriptionInput!) { pauseSubscription(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"subscriptionId": paused["subscription"]["id"], "atPeriodEnd": True}},
        token=key,
    )
    assert pause["pauseSubscription"]["userErrors"] == []
    return ada, session


def _context(portal: Portal, principal: Principal, language: str) -> Context:
    return schema_context(portal.settings, principal, language)


async def _compare(
    portal: Portal,
    principal: Principal,
    queries: list[tuple[str, dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
    language: str = "en",
) -> list[bool]:
    """Whether each query was answered by its compiled statement, after checking its answer."""
    compiled = []
    for query, variables in queries:
        clock.freeze()  # both answers sign their PDF links for the same second
        caplog.clear()
        fast = await COMPILED.execute(
            query, variable_values=variables, context_value=_context(portal, principal, language)
        )
        compiled.append(ANSWERED in [r.getMessage() for r in caplog.records])
        plain = await PLAIN.execute(
            query, variable_values=variables, context_value=_context(portal, principal, language)
        )
        clock.reset()
        assert answer_of(fast) == answer_of(plain), (query, variables)
    return compiled


async def test_compiled_queries_answer_as_graphql_core_does(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    customer_id, _ = await _world(portal, acme)
    ada = Principal(PrincipalKind.CUSTOMER, acme.business.id, Mode.TEST, customer_id, "ses_x")
    caplog.set_level(logging.DEBUG, logger="portal.graphql.plans")

    assert await _compare(portal, ada, COMPILED_QUERIES, caplog) == [True] * 6
    assert await _compare(portal, ada, COMPILED_QUERIES[:2], caplog, "de-DE") == [True] * 2
    assert await _compare(portal, ada, OTHER_QUERIES, caplog) == [False] * 7

    # What the answers hold, beyond being equal: the states the world made.
    every = await COMPILED.execute(EVERY_FIELD, context_value=_context(portal, ada, "en"))
    me = every.data["me"]  # type: ignore[index]
    statuses = sorted(e["node"]["status"] for e in me["subscriptions"]["edges"])
    assert statuses == ["ACTIVE", "ACTIVE", "CANCELLED", "FAILED"]
    [gone] = [e["node"] for e in me["subscriptions"]["edges"] if e["node"]["status"] == "CANCELLED"]
    assert (gone["cancellationReason"], gone["cancellationComment"]) == (
        "TOO_EXPENSIVE",
        "Zu teuer",
    )
    # The cancelled subscription's card (…4444) was removed.
    assert {m["last4"] for m in me["paymentMethods"]} == {"4242"}
    assert any(e["node"]["pauseAtNextBillingDate"] for e in me["subscriptions"]["edges"])

    # The business hides invoices: an empty list, in the same one statement.
    hide = await portal.gql(
        "mutation { updatePortalSettings(input: {customersMaySeeInvoices: false}) "
        "{ userErrors { code } } }",
        token=acme.test_api_key,
    )
    assert hide["updatePortalSettings"]["userErrors"] == []
    assert await _compare(portal, ada, COMPILED_QUERIES[:2], caplog) == [True] * 2
    hidden = await COMPILED.execute(DASHBOARD, context_value=_context(portal, ada, "en"))
    assert hidden.data["me"]["invoices"]["edges"] == []  # type: ignore[index]


async def test_the_dashboard_is_one_statement(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    customer_id, _ = await _world(portal, acme)
    ada = Principal(PrincipalKind.CUSTOMER, acme.business.id, Mode.TEST, customer_id, "ses_x")
    caplog.set_level(logging.DEBUG, logger="portal.graphql.plans")
    with recorded_statements() as statements:
        result = await COMPILED.execute(DASHBOARD, context_value=_context(portal, ada, "en"))
    assert result.errors is None
    assert ANSWERED in [r.getMessage() for r in caplog.records]
    assert len(statements) == 1, statements


async def test_another_customer_sees_only_their_own(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    """Bob, of the same business, and Ada's id in another business: nothing of Ada's."""
    await _world(portal, acme)
    key = acme.test_api_key
    bob = (
        await portal.gql(
            '{ customers(email: "bob@example.com") { edges { node { id } } } }', token=key
        )
    )["customers"]["edges"][0]["node"]["id"]
    caplog.set_level(logging.DEBUG, logger="portal.graphql.plans")
    principal = Principal(PrincipalKind.CUSTOMER, acme.business.id, Mode.TEST, bob, "ses_y")
    assert await _compare(portal, principal, COMPILED_QUERIES[:2], caplog) == [True] * 2
    seen = await COMPILED.execute(DASHBOARD, context_value=_context(portal, principal, "en"))
    me = seen.data["me"]  # type: ignore[index]
    assert me["email"] == "bob@example.com"
    assert [me[k]["edges"] for k in ("subscriptions", "invoices", "payments")] == [[], [], []]
    assert me["paymentMethods"] == []
    live = Principal(PrincipalKind.CUSTOMER, acme.business.id, Mode.LIVE, bob, "ses_z")
    assert await _compare(portal, live, COMPILED_QUERIES[:1], caplog) == [False]
