"""The portal settings on the hosted pages, in Chromium against the real server: what the business
does not allow is not offered (no cancel form, no card edit, no invoices, a read-only profile);
what it allows works from the page: cancel only at period end, pause now, resume, cancel, and
come back with the saved card. Every page keeps the page rules (labels, contrast, CSP)."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Server, customer_with_subscription, magic_link, subscription_state
from .test_portal_journeys import tours  # noqa: F401  (the browser-context fixture)

SETTINGS = """mutation($i: UpdatePortalSettingsInput!) { updatePortalSettings(input: $i) {
  portalSettings { customerCancellation } userErrors { code } } }"""


def set_settings(server: Server, key: str, **changes: Any) -> None:
    result = server.gql(SETTINGS, {"i": changes}, key)["updatePortalSettings"]
    assert result["userErrors"] == [], result


def sign_in(page: Any, server: Server, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/test/portal")


@pytest.fixture(scope="module")
def shop(server: Server) -> dict[str, str]:
    return server.create_business("Settings Shop", "help@settings.example", "en")


def test_what_is_not_allowed_is_not_offered(
    server: Server,
    tours: Any,  # noqa: F811
    shop: dict[str, str],
) -> None:
    key = shop["test_api_key"]
    customer = customer_with_subscription(
        server, key, "nora@example.com", "Nora Locked", "Locked plan"
    )
    set_settings(
        server,
        key,
        customerCancellation="NOT_ALLOWED",
        customersMayUpdatePaymentMethods=False,
        customersMayEditProfile=False,
        customersMaySeeInvoices=False,
    )
    tour = tours("en-US")
    page = tour.page
    sign_in(page, server, magic_link(server, customer))
    nav = page.get_by_role("navigation", name="Portal")
    assert nav.get_by_role("link", name="Invoices").count() == 0
    assert page.get_by_role("heading", name="Invoices").count() == 0
    tour.look("overview-restricted")

    page.goto(f"{server.url}/test/portal/subscriptions/{customer.subscription_id}")
    page.get_by_role("heading", name="Locked plan").wait_for()
    assert page.get_by_role("heading", name="Cancel subscription").count() == 0
    assert page.get_by_role("link", name="Edit", exact=True).count() == 0
    assert page.get_by_role("heading", name="Pause subscription").count() == 0
    tour.look("subscription-restricted")

    for path in ("invoices", f"subscriptions/{customer.subscription_id}/payment-method"):
        response = page.goto(f"{server.url}/test/portal/{path}")
        assert response is not None and response.status == 404

    page.goto(f"{server.url}/test/portal/profile")
    assert page.get_by_label("Name").count() == 0
    assert "Nora Locked" in tour.text()
    tour.look("profile-read-only")
    # The language is still the customer's to choose.
    page.locator("#locale").select_option("de")
    page.get_by_role("button", name="Save language").click()
    page.get_by_text("Ihr Profil ist gespeichert.").wait_for()
    page.goto(f"{server.url}/test/portal/billing-details")
    page.get_by_role("heading", level=1).wait_for()
    assert page.locator("#billing-details").count() == 1
    assert page.get_by_role("button", name="Rechnungsadresse speichern").count() == 0
    tour.look("billing-details-read-only")

    # Allowed again: offered again.
    set_settings(
        server,
        key,
        customerCancellation="AT_PERIOD_END",
        customersMayUpdatePaymentMethods=True,
        customersMaySeeInvoices=True,
    )
    page.goto(f"{server.url}/test/portal/subscriptions/{customer.subscription_id}?lang=en")
    page.get_by_role("heading", name="Cancel subscription").wait_for()
    assert page.locator("#when-period_end").count() == 1
    assert page.locator("#when-now").count() == 0
    assert page.get_by_role("link", name="Edit", exact=True).count() == 1
    assert (
        page.get_by_role("navigation", name="Portal").get_by_role("link", name="Invoices").count()
        == 1
    )
    tour.look("subscription-cancel-at-period-end-only")


def test_pause_resume_cancel_and_come_back_from_the_page(
    server: Server,
    tours: Any,  # noqa: F811
    shop: dict[str, str],
) -> None:
    key = shop["test_api_key"]
    customer = customer_with_subscription(
        server, key, "otto@example.com", "Otto Break", "Break plan", license_keys=True
    )
    set_settings(
        server, key, customerCancellation="NOW", customersMayPause=True, customersMayRestart=True
    )
    tour = tours("en-US")
    page = tour.page
    sign_in(page, server, magic_link(server, customer))
    page.goto(f"{server.url}/test/portal/subscriptions/{customer.subscription_id}")
    page.get_by_role("heading", name="Pause subscription").wait_for()
    tour.look("pause-offered")

    page.get_by_label("Now", exact=True).check()
    page.get_by_role("button", name="Pause subscription").click()
    page.get_by_text("Your subscription is paused.", exact=True).wait_for()
    assert subscription_state(server, customer)["status"] == "PAUSED"
    tour.look("paused")

    page.get_by_role("button", name="Resume now").click()
    page.get_by_text("Your subscription has resumed.").wait_for()
    assert subscription_state(server, customer)["status"] == "ACTIVE"

    page.get_by_label("Now (you lose access today)").check()
    page.get_by_label("Why are you cancelling?").select_option("UNUSED")
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_text("Your subscription is cancelled.").wait_for()
    assert subscription_state(server, customer)["status"] == "CANCELLED"
    tour.look("cancelled-restart-offered")

    page.get_by_role("link", name="Restart subscription").click()
    page.get_by_role("button", name="Restart and pay").wait_for()
    tour.look("restart")
    assert page.get_by_label("Visa").or_(page.locator("input[name=method][value^=pm_]")).count()
    page.get_by_role("button", name="Restart and pay").click()
    page.get_by_text("Welcome back! Your subscription is active again.").wait_for()
    assert "/portal/subscriptions/sub_" in page.url
    assert customer.subscription_id not in page.url
    tour.look("restarted")
