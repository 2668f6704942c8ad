"""The hosted portal in a real browser (headless Chromium), against the real server.

The heart of it: a customer whose renewal failed opens the static login link, gets the email,
signs in, finds the subscription ON_HOLD with the amount owed, tries a card that is declined,
reads why and that nothing changed, pays with a good card, sees the confirmation page and
downloads the invoice PDF. In English at desktop width, in German at phone width, and a
cancellation done with the keyboard alone. Every page is checked against the page rules
(labels, contrast, no inline script or style, no CSP violation) and saved as a screenshot
under test-artifacts/browser/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support import MailCatcher

from .helpers import (
    FOCUS_STYLE_JS,
    Customer,
    Server,
    Shots,
    check_page,
    customer_with_subscription,
    link_in_mail,
    magic_link,
    put_on_hold,
    subscription_state,
    wait_for,
    wait_for_mail,
    watch_console,
)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "email": "Email address",
        "send": "Email me a sign-in link",
        "sent": "Check your email",
        "mail_subject": "sign-in link",
        "continue": "Sign in",
        "banner": "Payment needed for",
        "amount": "€15.00",
        "subscriptions": "Subscriptions",
        "on_hold": "On hold",
        "edit": "Edit",
        "card_0341": "ending in 0341",
        "new_card": "Add a new card",
        "number": "Card number",
        "month": "Expiry month (MM)",
        "year": "Expiry year (YYYY)",
        "cvc": "Security code (CVC)",
        "confirm": "Confirm changes",
        "declined": "Your card was declined: insufficient funds.",
        "still": "Nothing was charged and your subscription is still paused.",
        "success": "Payment successful",
        "active_again": "is active again",
        "receipt_subject": "Receipt for your payment",
        "reactivated_subject": "is active again",
        "invoices": "All invoices",
        "download": "Download PDF",
    },
    "de": {
        "email": "E-Mail-Adresse",
        "send": "Anmeldelink senden",
        "sent": "Bitte prüfen Sie Ihr Postfach",
        "mail_subject": "Anmeldelink",
        "continue": "Anmelden",
        "banner": "Zahlung für",
        "amount": "15,00 €",
        "subscriptions": "Abonnements",
        "on_hold": "Pausiert",
        "edit": "Bearbeiten",
        "card_0341": "Endziffern 0341",
        "new_card": "Neue Karte hinzufügen",
        "number": "Kartennummer",
        "month": "Ablaufmonat (MM)",
        "year": "Ablaufjahr (JJJJ)",
        "cvc": "Prüfnummer (CVC)",
        "confirm": "Änderungen bestätigen",
        "declined": "Ihre Karte wurde abgelehnt: keine ausreichende Deckung.",
        "still": "Es wurde nichts abgebucht, und Ihr Abonnement ist weiterhin pausiert.",
        "success": "Zahlung erfolgreich",
        "active_again": "ist wieder aktiv",
        "receipt_subject": "Beleg für Ihre Zahlung",
        "reactivated_subject": "ist wieder aktiv",
        "invoices": "Alle Rechnungen",
        "download": "PDF herunterladen",
    },
}


class Tour:
    """One browser context (a customer's browser) with its page, screenshots and checks."""

    def __init__(self, browser: Any, shots: Shots, locale: str, width: int = 1280) -> None:
        self.context = browser.new_context(
            locale=locale,
            accept_downloads=True,
            viewport={"width": width, "height": 900},
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.csp_errors = watch_console(self.page)
        self.shots = shots

    def look(self, name: str) -> None:
        """The page keeps the rules; and a screenshot of it."""
        # A click that navigates returns once the new page starts loading: let it finish.
        self.page.wait_for_load_state("load")
        check_page(self.page, self.csp_errors)
        self.shots(self.page, name)

    def text(self) -> str:
        return str(self.page.inner_text("body")).replace("\xa0", " ")


@pytest.fixture
def tours(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    opened: list[Tour] = []

    def open_tour(locale: str, width: int = 1280) -> Tour:
        module = request.module.__name__.rsplit(".", 1)[-1]
        tour = Tour(browser, Shots(module, request.node.name), locale, width)
        opened.append(tour)
        return tour

    yield open_tour
    for tour in opened:
        tour.context.close()


def _sign_in_from_static_link(
    tour: Tour, server: Server, mail: MailCatcher, business_id: str, email: str, words: dict
) -> str:
    """Static link → email → the link in it → continue → the portal. Returns the link."""
    page = tour.page
    page.goto(f"{server.url}/test/login/{business_id}")
    tour.look("login")
    before = len(mail.messages)
    page.get_by_label(words["email"]).fill(email)
    page.get_by_role("button", name=words["send"]).click()
    page.get_by_role("heading", name=words["sent"]).wait_for()
    assert email in tour.text()
    tour.look("login-sent")

    link = link_in_mail(wait_for_mail(mail, email, words["mail_subject"], after=before))
    assert link.startswith(f"{server.url}/test/session/")
    page.goto(link)
    tour.look("session-landing")
    page.get_by_role("button", name=words["continue"]).click()
    page.wait_for_url(f"{server.url}/test/portal")
    return link


def _pay_what_is_owed(
    tour: Tour, server: Server, mail: MailCatcher, customer: Customer, words: dict
) -> None:
    """From the overview's ON_HOLD banner to the confirmation page and the invoice PDF."""
    page = tour.page
    banner = page.locator("section.banner")
    assert words["banner"] in banner.inner_text()
    assert words["amount"] in banner.inner_text().replace("\xa0", " ")
    tour.look("overview-on-hold")

    page.get_by_role("navigation").get_by_role("link", name=words["subscriptions"]).click()
    tour.look("subscriptions")
    page.get_by_role("link", name=customer.extra["product"]).click()
    page.locator("section.banner").wait_for()
    assert words["on_hold"] in tour.text() and words["card_0341"] in tour.text()
    tour.look("subscription-on-hold")

    page.get_by_role("link", name=words["edit"], exact=True).click()
    page.get_by_role("button", name=words["confirm"]).wait_for()
    tour.look("edit-payment-method")

    # A card with insufficient funds: the message says so, and nothing changed.
    page.get_by_label(words["new_card"]).check()
    page.get_by_label(words["number"]).fill("4000 0000 0000 9995")
    page.get_by_label(words["month"]).fill("12")
    page.get_by_label(words["year"]).fill("2034")
    page.get_by_label(words["cvc"]).fill("123")
    page.get_by_role("button", name=words["confirm"]).click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert words["declined"] in alert.inner_text() and words["still"] in alert.inner_text()
    # A card number is never written back into a page.
    assert page.get_by_label(words["number"]).input_value() == ""
    assert "4000000000009995" not in page.content()
    tour.look("declined")
    state = subscription_state(server, customer)
    assert state["status"] == "ON_HOLD" and state["outstandingAmount"]["amount"] == 1500

    # Another card: paid, ACTIVE again, the confirmation page.
    before = len(mail.messages)
    assert page.get_by_label(words["new_card"]).is_checked()
    assert page.get_by_label(words["month"]).input_value() == "12"
    page.get_by_label(words["number"]).fill("4242424242424242")
    page.get_by_label(words["cvc"]).fill("123")
    page.get_by_role("button", name=words["confirm"]).click()
    page.get_by_role("heading", name=words["success"]).wait_for()
    assert words["active_again"] in tour.text() and words["amount"] in tour.text()
    tour.look("confirmation")
    state = subscription_state(server, customer)
    assert state["status"] == "ACTIVE" and state["paymentMethod"]["last4"] == "4242"
    wait_for_mail(mail, customer.email, words["receipt_subject"], after=before)
    wait_for_mail(mail, customer.email, words["reactivated_subject"], after=before)

    # The invoice PDF downloads.
    page.get_by_role("link", name=words["invoices"]).click()
    tour.look("invoices")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=words["download"]).first.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_on_hold_journey_in_english(
    server: Server, mail: MailCatcher, tours: Any, acme: dict[str, str]
) -> None:
    words = WORDS["en"]
    customer = customer_with_subscription(
        server, acme["test_api_key"], "ada@example.com", "Ada Lovelace", "Pro plan",
        license_keys=True,
    )  # fmt: skip
    customer.extra["product"] = "Pro plan"
    put_on_hold(server, customer)
    tour = tours("en-US")
    page = tour.page
    link = _sign_in_from_static_link(tour, server, mail, acme["business_id"], customer.email, words)
    _pay_what_is_owed(tour, server, mail, customer, words)

    # License keys: copy, devices, deactivate. The device's name is escaped, not markup.
    key = server.gql(
        "query($c: ID!) { licenseKeys(customerId: $c) { edges { node { key } } } }",
        {"c": customer.id},
        customer.key,
    )["licenseKeys"]["edges"][0]["node"]["key"]
    server.gql(
        "mutation($i: ActivateLicenseKeyInput!) { activateLicenseKey(input: $i) "
        "{ instance { id } } }",
        {"i": {"key": key, "name": "<b>Ada's laptop</b>"}},
    )
    tour.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("link", name="License keys").first.click()
    assert page.get_by_label("License key").input_value() == key
    assert "<b>Ada's laptop</b>" in tour.text()
    page.get_by_role("button", name="Copy").click()
    page.get_by_text("Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    tour.look("license-keys")
    page.get_by_role("button", name="Deactivate <b>Ada's laptop</b>").click()
    page.get_by_text("The device is deactivated.").wait_for()
    tour.look("license-key-deactivated")

    # Profile: view, edit, a wrong phone number explained next to its field.
    page.get_by_role("navigation").get_by_role("link", name="Profile").click()
    tour.look("profile")
    page.get_by_label("Phone").fill("12345")
    page.get_by_role("button", name="Save profile").click()
    assert page.get_by_label("Phone").get_attribute("aria-invalid") == "true"
    assert "international format" in tour.text()
    tour.look("profile-error")
    page.get_by_label("Name").fill("Ada King")
    page.get_by_label("Phone").fill("+4915123456789")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Your profile is saved.").wait_for()
    assert page.get_by_label("Name").input_value() == "Ada King"
    tour.look("profile-saved")

    # A new email address counts once it is confirmed from a link sent to it.
    before = len(mail.messages)
    page.get_by_label("Email address").fill("ada.king@example.com")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("follow the link we sent to the new address").wait_for()
    confirm = link_in_mail(
        wait_for_mail(mail, "ada.king@example.com", "confirm your new email", after=before)
    )
    page.goto(confirm)
    tour.look("confirm-email")
    page.get_by_role("button", name="Confirm email address").click()
    page.get_by_role("heading", name="Email address changed").wait_for()
    tour.look("email-changed")
    customer.email = "ada.king@example.com"
    page.get_by_role("link", name="Go to your profile").click()
    assert page.get_by_label("Email address").input_value() == customer.email

    # Sign out; the portal asks to sign in again.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    tour.look("signed-out")
    response = page.goto(f"{server.url}/test/portal")
    assert response is not None and response.status == 401
    tour.look("session-ended")

    # The used link: the expired page offers a new one, and it arrives.
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="This link has expired").wait_for()
    tour.look("expired-link")
    before = len(mail.messages)
    page.get_by_label("Email address").fill(customer.email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    fresh = link_in_mail(wait_for_mail(mail, customer.email, "sign-in link", after=before))
    assert fresh != link


def test_on_hold_journey_in_german_at_phone_width(
    server: Server, mail: MailCatcher, tours: Any, mueller: dict[str, str]
) -> None:
    words = WORDS["de"]
    customer = customer_with_subscription(
        server, mueller["test_api_key"], "bruno@example.com", "Bruno Schmidt", "Brot-Abo"
    )
    customer.extra["product"] = "Brot-Abo"
    put_on_hold(server, customer)
    tour = tours("de-DE", width=390)
    page = tour.page
    _sign_in_from_static_link(tour, server, mail, mueller["business_id"], customer.email, words)

    # The merchant's branding: name, logo, accent colour on the buttons.
    assert page.locator("header .brand-name").inner_text() == "Bäckerei Müller"
    assert page.locator("header img.logo").evaluate("img => img.naturalWidth") > 0
    _pay_what_is_owed(tour, server, mail, customer, words)
    page.goto(f"{server.url}/test/portal/subscriptions/{customer.subscription_id}/payment-method")
    colour = page.get_by_role("button", name=words["confirm"]).evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    assert colour == "rgb(10, 102, 64)"

    # The switch: English now, and saved for the customer (emails follow it too).
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Confirm changes").wait_for()
    assert '<html lang="en"' in page.content()
    tour.look("switched-to-english")
    saved = server.gql(
        "query($id: ID!) { customer(id: $id) { locale } }", {"id": customer.id}, customer.key
    )
    assert saved["customer"]["locale"] == "en"


def _tab_to(page: Any, wanted: Any, limit: int = 60) -> dict[str, Any]:
    """Presses Tab until the focused element is the one wanted; every stop shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_STYLE_JS)
        if focused is None:
            continue
        assert focused["outline"], f"no visible focus on {focused}"
        if wanted(focused):
            return dict(focused)
    raise AssertionError("never reached the element with Tab")


def test_cancel_with_the_keyboard_alone(server: Server, tours: Any, acme: dict[str, str]) -> None:
    customer = customer_with_subscription(
        server, acme["test_api_key"], "kim@example.com", "Kim Keys", "Team plan", amount=4900
    )
    tour = tours("en-US")
    page = tour.page
    page.goto(magic_link(server, customer))
    skip = _tab_to(page, lambda f: True)
    assert skip["text"] == "Skip to main content"
    _tab_to(page, lambda f: f["text"] == "Sign in")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/test/portal")

    _tab_to(page, lambda f: f["tag"] == "A" and f["text"] == "Team plan")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Team plan").wait_for()
    page.wait_for_load_state()  # Tab before the load event may focus without a visible ring

    # At the end of the period, with a reason: then changed our mind.
    _tab_to(page, lambda f: f["id"] == "when-period_end")
    _tab_to(page, lambda f: f["id"] == "reason")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("#reason").input_value() == "MISSING_FEATURES"
    _tab_to(page, lambda f: f["id"] == "comment")
    page.keyboard.type("Moving to a yearly plan")
    _tab_to(page, lambda f: f["text"] == "Cancel subscription")
    tour.look("cancel-form-filled")
    page.keyboard.press("Enter")
    page.get_by_text("Your subscription will end at the end of the billing period.").wait_for()
    page.wait_for_load_state()
    assert subscription_state(server, customer)["cancelAtNextBillingDate"] is True
    tour.look("cancel-at-period-end")

    _tab_to(page, lambda f: f["text"] == "Keep my subscription")
    page.keyboard.press("Enter")
    page.get_by_text("Your subscription continues.").wait_for()
    page.wait_for_load_state()
    assert subscription_state(server, customer)["cancelAtNextBillingDate"] is False

    # Now, this time for good.
    _tab_to(page, lambda f: f["id"] == "when-period_end")
    page.keyboard.press("ArrowDown")
    assert page.locator("#when-now").is_checked()
    _tab_to(page, lambda f: f["id"] == "reason")
    page.keyboard.press("ArrowDown")
    _tab_to(page, lambda f: f["text"] == "Cancel subscription")
    page.keyboard.press("Enter")
    page.get_by_text("Your subscription is cancelled.").wait_for()
    wait_for(lambda: subscription_state(server, customer)["status"] == "CANCELLED", "CANCELLED")
    tour.look("cancelled-now")


@pytest.fixture(scope="module")
def acme(server: Server) -> dict[str, str]:
    return server.create_business("Acme GmbH", "support@acme.example", "en")


@pytest.fixture(scope="module")
def mueller(server: Server) -> dict[str, str]:
    business = server.create_business("Bäckerei Müller", "hallo@mueller.example", "de")
    updated = server.gql(
        "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) "
        "{ business { branding { accentColor logoUrl } } userErrors { code } } }",
        {"i": {"accentColor": "#0a6640", "logoUrl": f"{server.url}/static/example-logo.svg"}},
        business["test_api_key"],
    )["updateBusiness"]
    assert updated["userErrors"] == [], updated
    return business
