"""Changing plan in a real browser: from the subscription page to the preview, an upgrade paid
at once, then a downgrade scheduled for the period end and taken back. Every page keeps the page
rules; screenshots go to test-artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Server, customer_with_subscription, magic_link, wait_for
from .test_portal_journeys import tours  # noqa: F401  (the fixture)


def _plan_of(server: Server, key: str, subscription_id: str) -> dict[str, Any]:
    return dict(
        server.gql(
            "query($id: ID!) { subscription(id: $id) { product { id name } price { amount } "
            "outstandingAmount { amount } } "
            "scheduledPlanChange(subscriptionId: $id) { status toProduct { name } } }",
            {"id": subscription_id},
            key,
        )
    )


def test_change_plan_up_then_down_then_keep(
    server: Server,
    tours: Any,  # noqa: F811
    plans_shop: dict[str, str],
) -> None:
    key = plans_shop["test_api_key"]
    customer = customer_with_subscription(
        server, key, "paula@example.com", "Paula Plan", "Starter", amount=1500
    )
    starter = _plan_of(server, key, customer.subscription_id)["subscription"]["product"]["id"]
    team = server.gql(
        "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
        {"i": {"name": "Team", "price": {"amount": 4900, "currency": "EUR"}, "interval": "MONTH"}},
        key,
    )["createProduct"]["product"]["id"]
    family = server.gql(
        "mutation($i: CreatePlanFamilyInput!) { createPlanFamily(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"name": "Plans", "productIds": [starter, team]}},
        key,
    )["createPlanFamily"]
    assert family["userErrors"] == []

    tour = tours("en-US")
    page = tour.page
    page.goto(magic_link(server, customer))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/test/portal")
    page.goto(f"{server.url}/test/portal/subscriptions/{customer.subscription_id}")
    page.get_by_role("heading", name="Change plan").wait_for()
    tour.look("subscription-with-plans")

    # Up: the preview says what is due now, and the button pays it.
    page.get_by_label("Team:").check()
    page.get_by_role("button", name="See what it costs").click()
    page.get_by_role("heading", name="From Starter to Team").wait_for()
    tour.look("upgrade-preview")
    due = page.locator("#amount-due-now").inner_text().replace("\xa0", " ")
    assert due.startswith("€") and due != "€0.00", due
    assert "€49.00" in page.locator("#next-renewal").inner_text()
    page.locator("#confirm-plan-change").click()
    page.get_by_text("Your plan is changed.").wait_for()
    state = _plan_of(server, key, customer.subscription_id)
    assert state["subscription"]["product"]["name"] == "Team"
    assert state["subscription"]["price"]["amount"] == 4900
    assert state["subscription"]["outstandingAmount"]["amount"] == 0
    tour.look("upgraded")

    # Down again: nothing now, at the period end; then kept after all.
    page.get_by_label("Starter:").check()
    page.get_by_role("button", name="See what it costs").click()
    page.get_by_role("heading", name="From Team to Starter").wait_for()
    assert page.locator("#amount-due-now").inner_text() == "€0.00"
    tour.look("downgrade-preview")
    page.locator("#confirm-plan-change").click()
    page.get_by_text("Your plan will change at the end of the billing period.").wait_for()
    assert "Your plan changes to Starter on" in page.locator("#scheduled-change").inner_text()
    wait_for(
        lambda: _plan_of(server, key, customer.subscription_id)["scheduledPlanChange"],
        "a scheduled change",
    )
    tour.look("downgrade-scheduled")
    page.get_by_role("button", name="Keep my current plan").click()
    page.get_by_text("You keep your current plan.").wait_for()
    assert _plan_of(server, key, customer.subscription_id)["scheduledPlanChange"] is None
    tour.look("plan-kept")


@pytest.fixture(scope="module")
def plans_shop(server: Server) -> dict[str, str]:
    shop = server.create_business("Plan GmbH", "support@plan.example", "en")
    allowed = server.gql(
        "mutation { updatePortalSettings(input: {customersMayChangePlan: true})"
        " { userErrors { code } } }",
        token=shop["test_api_key"],
    )
    assert allowed["updatePortalSettings"]["userErrors"] == []
    return dict(shop)
