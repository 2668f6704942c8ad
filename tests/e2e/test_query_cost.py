"""A query's potential cost is computed before it runs; over the budget it is refused with
QUERY_TOO_COMPLEX and its cost, and nothing is executed. The portal's own queries stay well
inside the budget. A request that runs too long is cut off."""

from __future__ import annotations

import logging

import pytest
from graphql import parse

from conftest import Portal, make_portal
from schema import schema as portal_schema
from schema.cost import MAX_COST, MAX_PAGE, PLAIN_LIST, query_cost, types_of
from services.businesses import NewBusiness
from support import DASHBOARD, code_of, create_customer, session_for

# Aliases of `customers(first: 100)`, each with the customer's five lists: what the outside
# probe sent (30 of them took 7 s and 3.6 MB on 100 customers before the cost limit), within
# the depth, alias and token limits.
PROBE = (
    "{ "
    + " ".join(
        f"c{n}: customers(first: 100) {{ edges {{ node {{ id "
        "subscriptions(first: 100) { edges { node { id } } } "
        "invoices(first: 100) { edges { node { id } } } "
        "payments(first: 100) { edges { node { id } } } "
        "licenseKeys(first: 100) { edges { node { id } } } "
        "paymentMethods { id } } } }"
        for n in range(12)
    )
    + " }"
)


def cost(query: str, variables: dict[str, object] | None = None) -> int:
    return query_cost(types_of(portal_schema), parse(query), None, variables)


def test_cost_formula() -> None:
    # customers: 1, and 20 (the default page) times (edges 1 + node 1 + id 1)
    assert cost("{ customers { edges { node { id } } } }") == 1 + 20 * 3
    # `first` as a literal and as a variable; capped at 100
    assert cost("{ customers(first: 5) { edges { node { id } } } }") == 1 + 5 * 3
    assert cost("query($n: Int) { customers(first: $n) { edges { node { id } } } }", {"n": 7}) == (
        1 + 7 * 3
    )
    assert cost("{ customers(first: 1000) { edges { node { id } } } }") == 1 + MAX_PAGE * 3
    # a variable that was not sent takes the argument's default
    assert cost("query($n: Int) { customers(first: $n) { totalCount } }") == 1 + 20 * 1
    # nested lists multiply; a plain list of objects counts PLAIN_LIST
    assert cost("{ me { paymentMethods { id brand } } }") == 1 + (1 + PLAIN_LIST * 2)
    nested = (
        "{ customers(first: 10) { edges { node { "
        "invoices(first: 10) { edges { node { id } } } } } } }"
    )
    assert cost(nested) == 1 + 10 * (1 + 1 + (1 + 10 * 3))
    # fragments count as their fields; __typename counts nothing
    assert cost("{ me { ...F __typename } } fragment F on Customer { id email }") == 1 + 2


async def test_a_query_over_the_budget_is_refused_with_its_cost(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "probe@example.com")
    caplog.set_level(logging.DEBUG, logger="tortoise")
    response = await portal.gql.raw(PROBE, token=acme.test_api_key)
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert code_of(error) == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] == cost(PROBE) > MAX_COST
    assert error["extensions"]["maxCost"] == MAX_COST
    # refused before execution: no customer was read
    statements = [r.getMessage() for r in caplog.records if "customer" in r.getMessage()]
    assert not [s for s in statements if "SELECT" in s and "FROM customer" in s]


async def test_a_mutation_over_the_budget_changes_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    wide = " ".join(
        f'c{n}: createCustomer(input: {{email: "m{n}@example.com"}}) {{ customer {{ id '
        "invoices(first: 100) { edges { node { id subscription { id } } } } "
        "subscriptions(first: 100) { edges { node { id product { id name } } } } "
        "payments(first: 100) { edges { node { id invoice { id } } } } } }"
        for n in range(20)
    )
    error = await portal.gql.error(f"mutation {{ {wide} }}", token=acme.test_api_key)
    assert code_of(error) == "QUERY_TOO_COMPLEX"
    data = await portal.gql("{ customers { totalCount } }", token=acme.test_api_key)
    assert data["customers"]["totalCount"] == 0


async def test_the_dashboard_and_the_portal_pages_stay_well_inside(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    assert cost(DASHBOARD) * 3 < MAX_COST
    # Every query the hosted pages send, as they send it.
    customer_id = await create_customer(portal.gql, acme.test_api_key, "pages@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    portal.http.cookies.set("portal_session", session)
    caplog.set_level(logging.DEBUG, logger="portal.graphql.cost")
    for path in (
        "/test/portal",
        "/test/portal/subscriptions",
        "/test/portal/invoices",
        "/test/portal/license-keys",
        "/test/portal/profile",
    ):
        response = await portal.http.get(path)
        assert response.status_code == 200, path
    costs = [int(r.getMessage().rsplit(" ", 1)[1]) for r in caplog.records]
    assert len(costs) >= 5
    assert max(costs) * 3 < MAX_COST, costs


async def test_a_request_that_runs_too_long_is_cut_off(portal: Portal, acme: NewBusiness) -> None:
    http, gql = await make_portal(portal.with_settings(request_timeout_seconds=0.0))
    async with http:
        response = await gql.raw("{ customers { totalCount } }", token=acme.test_api_key)
    assert response.status_code == 503
    [error] = response.json()["errors"]
    assert code_of(error) == "REQUEST_TIMEOUT"
    # the server still answers the next request
    data = await portal.gql("{ customers { totalCount } }", token=acme.test_api_key)
    assert data["customers"]["totalCount"] == 0
