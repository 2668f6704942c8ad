"""No N+1: the portal dashboard runs the same number of SQL statements for a customer with one
subscription as for one with fifty subscriptions and five hundred invoices. The statements are
counted where Tortoise logs each one it executes (logger `tortoise.db_client`, DEBUG). The query
and the history are the ones scripts/bench_dashboard.py times (scripts/dashboard_data.py)."""

from __future__ import annotations

from typing import Any

from conftest import Portal
from models import Mode, Product
from scripts.dashboard_data import DASHBOARD, seed_customer, seed_history, seed_products
from services.businesses import NewBusiness
from services.licensing import issue_license_key
from services.scope import Scope
from support import create_customer, create_product, recorded_statements, session_for, subscribe


async def load_dashboard(portal: Portal, token: str) -> tuple[dict[str, Any], list[str]]:
    with recorded_statements() as statements:
        response = await portal.gql.raw(DASHBOARD, token=token)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return dict(body["data"]["me"]), list(statements)


async def test_dashboard_statement_count_does_not_grow_with_history(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key

    small_id = await create_customer(gql, key, "small@example.com", "Small History")
    product_id = await create_product(gql, key, amount=1500, interval="MONTH")
    created = await subscribe(gql, key, small_id, product_id)
    assert created["userErrors"] == []

    big_id = await create_customer(gql, key, "big@example.com", "Long History")
    scope = Scope(acme.business.id, Mode.TEST)
    await seed_history(scope, big_id, subscriptions=50, invoices=500)

    small, small_statements = await load_dashboard(portal, await session_for(gql, key, small_id))
    big, big_statements = await load_dashboard(portal, await session_for(gql, key, big_id))

    # The pages are what the query asks for, with every related object filled in.
    assert len(small["subscriptions"]["edges"]) == 1
    assert len(small["invoices"]["edges"]) == len(small["payments"]["edges"]) == 1
    assert len(big["subscriptions"]["edges"]) == 20  # the default page
    assert len(big["invoices"]["edges"]) == len(big["payments"]["edges"]) == 100
    assert len(big["paymentMethods"]) == 3
    for me in (small, big):
        for edge in me["subscriptions"]["edges"]:
            node = edge["node"]
            assert node["product"]["name"] and node["paymentMethod"]["last4"]
            assert node["price"]["formatted"]
        for edge in me["invoices"]["edges"]:
            assert edge["node"]["subscription"]["id"].startswith("sub_")
        for edge in me["payments"]["edges"]:
            node = edge["node"]
            assert node["invoice"]["number"] and node["paymentMethod"]["last4"]
    assert any(e["node"]["outstandingAmount"]["amount"] > 0 for e in big["subscriptions"]["edges"])

    print(
        f"\ndashboard SQL statements: {len(small_statements)} for 1 subscription, "
        f"{len(big_statements)} for 50 subscriptions / 500 invoices"
    )
    listing = "\n".join(
        ["-- 1 subscription:", *small_statements, "-- 50 subscriptions:", *big_statements]
    )
    assert len(small_statements) == len(big_statements), listing
    # One statement (schema/compiled_queries.py): the session row, the customer, every list
    # with its related rows joined (a subscription's OPEN total as a subquery, whether the
    # business shows invoices from its portal settings), as the hand-written floor reads them.
    assert len(big_statements) == 1, listing


# The merchant's customer list, each customer with every one of its lists: one statement per
# kind of list, whatever the number of customers (services/billing/related_rows.py batches the
# customers' pages into one UNION ALL; saved cards and related rows through DataLoaders).
CUSTOMERS_WITH_LISTS = """query($n: Int!) { customers(first: $n) { totalCount edges { node {
  id email
  subscriptions(first: 5) { totalCount edges { node {
    id status product { name } paymentMethod { last4 } outstandingAmount { amount } } } }
  invoices(first: 3) { totalCount totalCountCapped
    edges { cursor node { id number subscription { id } } } pageInfo { hasNextPage } }
  payments(first: 3) { totalCount edges { node { id invoice { number } } } }
  licenseKeys { totalCount edges { node { id key status } } }
  paymentMethods { id last4 }
} } } }"""

ONE_CUSTOMER = """query($id: ID!) { customer(id: $id) {
  subscriptions(first: 5) { edges { node { id } } }
  invoices(first: 3) { edges { node { id } } }
  payments(first: 3) { edges { node { id } } }
  licenseKeys { edges { node { id } } }
} }"""


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def test_customer_list_with_each_customers_lists_is_a_constant_number_of_statements(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    scope = Scope(acme.business.id, Mode.TEST)
    products = await seed_products(scope)
    licensed = await Product.create(
        business_id=scope.business_id,
        mode=scope.mode,
        name="Licensed",
        price_amount=1000,
        currency="EUR",
        is_recurring=False,
        license_key_enabled=True,
    )
    # Four customers with histories of different lengths, newest last.
    seeded = []
    for n in range(4):
        customer_id = await seed_customer(
            scope, f"list{n}", subscriptions=1 + n, invoices=2 + n, products=products
        )
        for _ in range(n + 1):
            await issue_license_key(licensed, customer_id=customer_id)
        seeded.append(customer_id)

    answers = {}
    counts = {}
    for size in (1, 4):
        with recorded_statements() as statements:
            data = await gql(CUSTOMERS_WITH_LISTS, {"n": size}, token=key)
        answers[size] = {edge["node"]["id"]: edge["node"] for edge in data["customers"]["edges"]}
        counts[size] = list(statements)
    assert list(answers[4]) == seeded[::-1]
    one, four = len(counts[1]), len(counts[4])
    print(f"\ncustomer list SQL statements: {one} for 1 customer, {four} for 4")
    listing = "\n".join(["-- 1 customer:", *counts[1], "-- 4 customers:", *counts[4]])
    assert len(counts[1]) == len(counts[4]), listing

    # Each customer's lists are its own, as the customer's own query pages them.
    for n, customer_id in enumerate(seeded):
        node = answers[4][customer_id]
        alone = (await gql(ONE_CUSTOMER, {"id": customer_id}, token=key))["customer"]
        for name in ("subscriptions", "invoices", "payments", "licenseKeys"):
            assert _ids(node[name]) == _ids(alone[name]), (n, name)
        assert node["subscriptions"]["totalCount"] == 1 + n
        assert node["invoices"]["totalCount"] == 2 + n
        assert node["invoices"]["totalCountCapped"] is False
        assert node["invoices"]["pageInfo"]["hasNextPage"] == (2 + n > 3)
        assert node["payments"]["totalCount"] == 2 + n
        assert node["licenseKeys"]["totalCount"] == n + 1
        assert len(node["paymentMethods"]) == 3
        for edge in node["subscriptions"]["edges"]:
            assert edge["node"]["product"]["name"] and edge["node"]["paymentMethod"]["last4"]
        for edge in node["payments"]["edges"]:
            assert edge["node"]["invoice"]["number"]
