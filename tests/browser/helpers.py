"""What the browser tests share: setting up customers through the merchant API over HTTP,
waiting for mail, screenshots, and the page rules every page must keep (labels, one h1, no
inline script or style, contrast, no CSP violations, no horizontal scrolling on a phone)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

from support import LINK_RE, MailCatcher, text_body

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


class Server:
    """The running portal, and the merchant API of its businesses over HTTP."""

    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url = url
        self.env = env
        self.http = httpx.Client(base_url=url, timeout=15)

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str = "") -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def create_business(self, name: str, support_email: str, locale: str = "en") -> dict[str, str]:
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "create-business", name, "--support-email",
             support_email, "--locale", locale, "--json"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))


CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2034, "cvc": "123"}


def card(number: str) -> dict[str, Any]:
    return {**CARD, "number": number}


# The merchant's side, over HTTP ---------------------------------------------------------------


@dataclass
class Customer:
    id: str
    email: str
    key: str
    subscription_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def customer_with_subscription(
    server: Server,
    key: str,
    email: str,
    name: str,
    product: str,
    amount: int = 1500,
    license_keys: bool = False,
) -> Customer:
    """An ACTIVE subscription paid with 4242…, with a PAID first invoice."""
    created = server.gql(
        "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) "
        "{ customer { id } userErrors { code } } }",
        {"i": {"email": email, "name": name}},
        key,
    )["createCustomer"]
    assert created["userErrors"] == [], created
    customer = Customer(created["customer"]["id"], email, key)
    product_input: dict[str, Any] = {
        "name": product,
        "price": {"amount": amount, "currency": "EUR"},
        "interval": "MONTH",
    }
    if license_keys:
        product_input.update(licenseKeyEnabled=True, licenseKeyActivationsLimit=3)
    product_id = server.gql(
        "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
        {"i": product_input},
        key,
    )["createProduct"]["product"]["id"]
    subscribed = server.gql(
        "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) "
        "{ subscription { id status } userErrors { code } } }",
        {"i": {"customerId": customer.id, "productId": product_id, "card": CARD}},
        key,
    )["createSubscription"]
    assert subscribed["subscription"]["status"] == "ACTIVE", subscribed
    customer.subscription_id = subscribed["subscription"]["id"]
    return customer


def portal_session(server: Server, customer: Customer) -> str:
    link = server.gql(
        "mutation($i: CreateCustomerPortalSessionInput!) { createCustomerPortalSession(input: $i)"
        " { portalSession { link } } }",
        {"i": {"customerId": customer.id}},
        customer.key,
    )["createCustomerPortalSession"]["portalSession"]["link"]
    signed = server.gql(
        "mutation($t: String!) { signIn(input: {token: $t}) { sessionToken } }",
        {"t": link.rsplit("/", 1)[1]},
    )
    return str(signed["signIn"]["sessionToken"])


def magic_link(server: Server, customer: Customer) -> str:
    return str(
        server.gql(
            "mutation($i: CreateCustomerPortalSessionInput!) { createCustomerPortalSession("
            "input: $i) { portalSession { link } } }",
            {"i": {"customerId": customer.id}},
            customer.key,
        )["createCustomerPortalSession"]["portalSession"]["link"]
    )


def subscription_state(server: Server, customer: Customer) -> dict[str, Any]:
    return dict(
        server.gql(
            "query($id: ID!) { subscription(id: $id) { status outstandingAmount { amount } "
            "cancelAtNextBillingDate paymentMethod { last4 } } }",
            {"id": customer.subscription_id},
            customer.key,
        )["subscription"]
    )


def put_on_hold(server: Server, customer: Customer) -> None:
    """The dunning story's start: the customer switches to 4000000000000341 (saves, declines
    every charge), the renewal is due, the billing cycle fails: ON_HOLD with an OPEN invoice."""
    session = portal_session(server, customer)
    swapped = server.gql(
        "mutation($i: UpdatePaymentMethodInput!) { updatePaymentMethod(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"subscriptionId": customer.subscription_id, "card": card("4000000000000341")}},
        session,
    )
    assert swapped["updatePaymentMethod"]["userErrors"] == []
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    server.gql(
        "mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"subscriptionId": customer.subscription_id, "nextBillingDate": past}},
        customer.key,
    )
    server.gql("mutation { runBillingCycle { failedCount } }", token=customer.key)
    # The app's own scheduler may have got there first; either way it ends ON_HOLD.
    wait_for(lambda: subscription_state(server, customer)["status"] == "ON_HOLD", "ON_HOLD")


# Waiting, without fixed sleeps ------------------------------------------------------------------


def wait_for(condition: Any, what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_mail(mail: MailCatcher, to: str, subject: str, after: int = 0) -> Message:
    """The first message to `to` whose subject contains `subject`, among those that arrived
    after the first `after` messages."""

    def found() -> Message | None:
        for message in mail.messages[after:]:
            if to.lower() in str(message["To"]).lower() and subject in str(message["Subject"]):
                return message
        return None

    return wait_for(found, f"a mail to {to} about {subject!r}")


def link_in_mail(message: Message) -> str:
    links = LINK_RE.findall(text_body(message))
    assert links, text_body(message)
    return str(links[0])


# Screenshots and page rules ---------------------------------------------------------------------


class Shots:
    """Numbered full-page screenshots under test-artifacts/browser/<module>/<test>/."""

    def __init__(self, module: str, test: str) -> None:
        self.folder = ARTIFACTS / module / test
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page: Any, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


# Runs in the page: every rule a page must keep, as a list of broken ones.
PAGE_RULES_JS = "\n".join(
    line
    for line in (Path(__file__).parent / "page_rules.js").read_text().splitlines()
    if not line.startswith("//")
)

FOCUS_STYLE_JS = r"""
() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const s = getComputedStyle(el);
  return {tag: el.tagName, id: el.id, text: (el.textContent || el.value || "").trim().slice(0, 60),
          outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2};
}
"""


def check_page(page: Any, csp_errors: list[str]) -> None:
    problems = page.evaluate(PAGE_RULES_JS)
    assert problems == [], f"{page.url}: {problems}"
    assert csp_errors == [], csp_errors


def watch_console(page: Any) -> list[str]:
    """CSP violations (and other errors) the page logs."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error"
            and re.search(r"Content Security Policy|Refused", message.text)
            else None
        ),
    )
    return errors
