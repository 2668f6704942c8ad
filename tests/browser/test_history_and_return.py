"""The payment history page, the way back to the merchant and a new link after a used one, in
headless Chromium against the real server (SMTP caught by a real server). Every page keeps the
page rules and is saved as a screenshot under test-artifacts/browser/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support import MailCatcher

from .helpers import (
    CARD,
    Server,
    Shots,
    card,
    check_page,
    customer_with_subscription,
    link_in_mail,
    magic_link,
    wait_for_mail,
    watch_console,
)


@pytest.fixture(scope="module")
def acme(server: Server) -> dict[str, str]:
    return server.create_business("Acme GmbH", "support@acme.example", "en")


@pytest.fixture
def open_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser (no cookies: another device) and a function that checks and shoots."""
    contexts: list[Any] = []
    shots = Shots("test_history_and_return", request.node.name)

    def new_device(locale: str = "en-US") -> tuple[Any, Any]:
        context = browser.new_context(locale=locale, accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        errors = watch_console(page)

        def look(name: str) -> None:
            page.wait_for_load_state("load")
            check_page(page, errors)
            shots(page, name)

        return page, look

    yield new_device
    for context in contexts:
        context.close()


def buy_once(server: Server, key: str, customer_id: str, name: str, number: str) -> str:
    product_id = server.gql(
        "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
        {"i": {"name": name, "price": {"amount": 900, "currency": "EUR"}}},
        key,
    )["createProduct"]["product"]["id"]
    paid = server.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { payment { status } } }",
        {"i": {"customerId": customer_id, "productId": product_id, "card": card(number)}},
        key,
    )
    return str(paid["createPayment"]["payment"]["status"])


def test_payment_history_and_the_way_back(
    server: Server, open_page: Any, acme: dict[str, str]
) -> None:
    key = acme["test_api_key"]
    customer = customer_with_subscription(server, key, "hal@example.com", "Hal", "Pro plan")
    assert buy_once(server, key, customer.id, "E-book", CARD["number"]) == "SUCCEEDED"
    assert buy_once(server, key, customer.id, "E-book", "4000000000000002") == "FAILED"
    back = f"{server.url}/healthz?from=portal"
    link = server.gql(
        "mutation($i: CreateCustomerPortalSessionInput!) { createCustomerPortalSession("
        "input: $i) { portalSession { link } } }",
        {"i": {"customerId": customer.id, "returnUrl": back}},
        key,
    )["createCustomerPortalSession"]["portalSession"]["link"]

    page, look = open_page()
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/test/portal")
    back_link = page.get_by_role("link", name="Back to Acme GmbH")
    assert back_link.get_attribute("href") == back
    look("overview-with-back-link")

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Payments").click()
    page.get_by_role("heading", name="Payment history").wait_for()
    look("payment-history")
    rows = page.locator("table.payment-history tbody tr")
    assert rows.count() == 3
    texts = [rows.nth(n).inner_text().replace("\xa0", " ") for n in range(3)]
    assert "E-book" in texts[0] and "Failed" in texts[0] and "Visa •••• 0002" in texts[0]
    assert "one-time purchase" in texts[1] and "Succeeded" in texts[1] and "€9.00" in texts[1]
    assert "Pro plan" in texts[2] and "€15.00" in texts[2] and "Visa •••• 4242" in texts[2]
    assert rows.nth(0).get_by_role("link").count() == 0  # no receipt for a failed payment
    with page.expect_download() as download_info:
        rows.nth(1).get_by_role("link", name="Receipt (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # Back to the merchant's app, from any page.
    page.get_by_role("link", name="Back to Acme GmbH").click()
    page.wait_for_url(back)
    assert "ok" in page.inner_text("body").lower()


def test_a_used_link_on_another_device_leads_to_a_new_one(
    server: Server, mail: MailCatcher, open_page: Any, acme: dict[str, str]
) -> None:
    customer = customer_with_subscription(
        server, acme["test_api_key"], "dee@example.com", "Dee", "Team plan"
    )
    link = magic_link(server, customer)
    phone, _ = open_page()
    phone.goto(link)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(f"{server.url}/test/portal")

    # The same link on a laptop that never saw the portal.
    laptop, look = open_page("de-DE")
    laptop.goto(link)
    laptop.get_by_role("button", name="Anmelden").click()
    laptop.get_by_role("heading", name="Dieser Link ist abgelaufen").wait_for()
    assert "Acme GmbH" in laptop.inner_text("main")
    look("expired-on-new-device")
    before = len(mail.messages)
    laptop.get_by_label("E-Mail-Adresse").fill(customer.email)
    laptop.get_by_role("button", name="Anmeldelink senden").click()
    laptop.get_by_role("heading", name="Bitte prüfen Sie Ihr Postfach").wait_for()
    look("new-link-sent")
    # The email speaks the business's language (the customer has chosen none).
    fresh = link_in_mail(wait_for_mail(mail, customer.email, "sign-in link", after=before))
    assert fresh != link
    laptop.goto(fresh)
    laptop.get_by_role("button", name="Anmelden").click()
    laptop.wait_for_url(f"{server.url}/test/portal")
    assert customer.email in laptop.inner_text("main")
    look("signed-in-with-new-link")
