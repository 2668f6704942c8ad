"""Every hosted page, in German and in English, at desktop and phone width, checked by axe-core
(the engine behind most accessibility audits) in headless Chromium against the real server; and
the HTML part of every email.

A page passes with no violation of impact "serious" or "critical"; the others are printed, so
they show in the test's output without failing it. axe runs from the copy of axe.min.js that
ships inside the axe-playwright-python wheel: nothing is fetched at test time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .helpers import (
    CARD,
    Customer,
    Server,
    Shots,
    card,
    customer_with_subscription,
    magic_link,
    portal_session,
    put_on_hold,
    watch_console,
)

BLOCKING = frozenset({"serious", "critical"})
LANGUAGES = {"en": "en-US", "de": "de-DE"}
WIDTHS = {"desktop": 1280, "phone": 390}
PAGE_OUTLINE = ("landmark-one-main", "page-has-heading-one", "region")


@dataclass
class Seeded:
    """One customer's portal with something on every page: an ACTIVE subscription with a
    license key activated on a device, a subscription that went ON_HOLD and was paid again (its
    payment is what the confirmation page shows), and one still ON_HOLD (the banners)."""

    business_id: str
    customer: Customer
    paid_subscription_id: str
    payment_id: str
    on_hold_subscription_id: str


def _seed(server: Server, name: str, support: str, locale: str, email: str, accent: str) -> Seeded:
    business = server.create_business(name, support, locale)
    key = business["test_api_key"]
    server.gql(
        "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { userErrors { code } } }",
        {"i": {"accentColor": accent, "logoUrl": f"{server.url}/static/example-logo.svg"}},
        key,
    )
    customer = customer_with_subscription(
        server, key, email, "Ada Lovelace", "Pro plan", license_keys=True
    )
    license_key = server.gql(
        "query($c: ID!) { licenseKeys(customerId: $c) { edges { node { key } } } }",
        {"c": customer.id},
        key,
    )["licenseKeys"]["edges"][0]["node"]["key"]
    server.gql(
        "mutation($i: ActivateLicenseKeyInput!) { activateLicenseKey(input: $i) "
        "{ instance { id } } }",
        {"i": {"key": license_key, "name": "Ada's laptop"}},
    )

    # Two more subscriptions of the same customer, ON_HOLD after a failed renewal; one paid.
    def on_hold(product: str) -> str:
        product_id = server.gql(
            "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
            {"i": {"name": product, "price": {"amount": 4900, "currency": "EUR"},
                   "interval": "MONTH"}},
            key,
        )["createProduct"]["product"]["id"]  # fmt: skip
        subscription_id = server.gql(
            "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) "
            "{ subscription { id } } }",
            {"i": {"customerId": customer.id, "productId": product_id, "card": CARD}},
            key,
        )["createSubscription"]["subscription"]["id"]
        put_on_hold(server, Customer(customer.id, customer.email, key, subscription_id))
        return str(subscription_id)

    second, third = on_hold("Team plan"), on_hold("Studio plan")
    session = portal_session(server, customer)
    paid = server.gql(
        "mutation($i: UpdatePaymentMethodInput!) { updatePaymentMethod(input: $i) "
        "{ payment { id status } userErrors { code } } }",
        {"i": {"subscriptionId": second, "card": card("4242424242424242")}},
        session,
    )["updatePaymentMethod"]
    assert paid["userErrors"] == [] and paid["payment"]["status"] == "SUCCEEDED", paid
    return Seeded(business["business_id"], customer, second, paid["payment"]["id"], third)


@pytest.fixture(scope="module")
def seeded(server: Server) -> dict[str, Seeded]:
    # A light accent and a dark one: the pages derive readable colours from either.
    return {
        "en": _seed(
            server, "Acme GmbH", "support@acme.example", "en", "a11y-en@example.com", "#ffeb3b"
        ),
        "de": _seed(
            server,
            "Bäckerei Müller",
            "hallo@mueller.example",
            "de",
            "a11y-de@example.com",
            "#0a6640",
        ),
    }


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    params = request.node.callspec.params
    opened = browser.new_context(
        locale=LANGUAGES[params["language"]],
        viewport={"width": WIDTHS[params["width"]], "height": 900},
    )
    opened.set_default_timeout(10_000)
    yield opened
    opened.close()


def _axe(page: Any, *, off: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    # axe's defaults (WCAG 2.0/2.1 A and AA, best practices) plus WCAG 2.2's target size
    # (2.5.8, AA), which axe 4.12 ships switched off.
    rules = {"target-size": {"enabled": True}, **{rule: {"enabled": False} for rule in off}}
    options = {"resultTypes": ["violations"], "rules": rules}
    return list(Axe().run(page, options=options).response["violations"])


def _describe(violation: dict[str, Any]) -> str:
    targets = "; ".join(
        " ".join(node["target"]) + " " + node.get("failureSummary", "").replace("\n", " ")
        for node in violation["nodes"][:5]
    )
    return f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_page_has_no_serious_accessibility_violations(
    server: Server, seeded: dict[str, Seeded], context: Any, language: str, width: str,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    data = seeded[language]
    shots = Shots("test_accessibility", request.node.name)
    page = context.new_page()
    csp_errors = watch_console(page)
    url = server.url
    found: dict[str, list[dict[str, Any]]] = {}

    def audit(name: str) -> None:
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.lang") == language, name
        found[name] = _axe(page)
        shots(page, name)

    def visit(name: str, path: str, expected_status: int = 200) -> None:
        response = page.goto(url + path)
        assert response is not None and response.status == expected_status, (name, path)
        audit(name)

    def submit(button: Any, expected_status: int) -> None:
        """Presses a form's button and waits for the page it leads to."""
        with page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        assert response is not None and response.status == expected_status, page.url

    # Before signing in: the static login page, a link's landing page, the expired link.
    visit("login", f"/test/login/{data.business_id}")
    visit("session-landing", f"/test/session/{'x' * 43}")
    submit(page.locator("main button[type=submit]"), 410)
    audit("expired-link")

    # Signed in, with the session a link would have opened.
    page.goto(magic_link(server, data.customer))
    submit(page.locator("main button[type=submit]"), 200)
    assert page.url == f"{url}/test/portal"
    audit("overview")
    subscription = f"/test/portal/subscriptions/{data.customer.subscription_id}"
    for name, path in (
        ("subscriptions", "/test/portal/subscriptions"),
        ("subscription", subscription),
        ("payment-method", f"{subscription}/payment-method"),
        (
            "confirmation",
            f"/test/portal/subscriptions/{data.paid_subscription_id}/confirmation"
            f"?payment={data.payment_id}",
        ),
        ("invoices", "/test/portal/invoices"),
        ("payments", "/test/portal/payments"),
        ("license-keys", "/test/portal/license-keys"),
        ("profile", "/test/portal/profile"),
    ):
        visit(name, path)

    # The states that show alerts and field errors.
    on_hold = f"/test/portal/subscriptions/{data.on_hold_subscription_id}"
    visit("subscription-on-hold", on_hold)
    page.goto(f"{url}{on_hold}/payment-method")
    page.locator("#method-new").check()
    page.locator("#card-number").fill("4000 0000 0000 9995")
    page.locator("#card-exp_month").fill("12")
    page.locator("#card-exp_year").fill("2034")
    page.locator("#card-cvc").fill("123")
    submit(page.locator("#confirm-changes"), 402)
    audit("payment-method-declined")
    page.goto(f"{url}/test/portal/profile")
    page.locator("#phone").fill("12345")
    submit(page.locator("main form button[type=submit]"), 400)
    assert page.locator("#phone").get_attribute("aria-invalid") == "true"
    audit("profile-error")

    # Signing out, and the page a visit after that gets.
    submit(page.locator("form.sign-out button"), 200)
    audit("signed-out")
    visit("session-ended", "/test/portal", expected_status=401)
    page.close()

    blocking: list[str] = []
    for name, violations in found.items():
        for violation in violations:
            line = f"[{language}, {width}] {name}: {_describe(violation)}"
            print(line)
            if violation["impact"] in BLOCKING:
                blocking.append(line)
    assert blocking == [], "\n".join(blocking)
    assert csp_errors == [], csp_errors


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_email_has_no_serious_accessibility_violations(browser: Any, language: str) -> None:
    """The HTML part of every email, opened as a page, under the same rules but the three about
    a page's outline: a mail client shows a message inside its own page, where the message is
    an article (role="article", named by its subject), not the page's main content."""
    from tests.mailers.test_templates import every_message

    page = browser.new_page()
    blocking: list[str] = []
    try:
        for message in every_message(language):
            page.set_content(message.html)
            for violation in _axe(page, off=PAGE_OUTLINE):
                line = f"[{language}] {message.subject}: {_describe(violation)}"
                print(line)
                if violation["impact"] in BLOCKING:
                    blocking.append(line)
    finally:
        page.close()
    assert blocking == [], "\n".join(blocking)
