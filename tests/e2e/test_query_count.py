"""No N+1: the portal dashboard runs the same number of SQL statements for a customer with one
subscription as for one with fifty subscriptions and five hundred invoices. The statements are
counted where Tortoise logs each one it executes (logger `tortoise.db_client`, DEBUG). The query
and the history are the ones scripts/bench_dashboard.py times (scripts/dashboard_data.py)."""

from __future__ import annotations

from typing import Any

from conftest import Portal
from models import Mode
from scripts.dashboard_data import DASHBOARD, seed_history
from services.businesses import NewBusiness
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
    # The session, the customer, and one statement per list, the related rows joined into it
    # (and a subscription's OPEN total as a subquery), and the business's portal settings
    # (whether its customers see invoices): as many as a hand-written endpoint needs.
    assert len(big_statements) == 7, listing
