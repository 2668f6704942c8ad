"""The hosted pages of a business on Stripe, in headless Chromium, against the real server (its
own process, on SQLite and on PostgreSQL) and localstripe (its own process, whose stand-in for
Stripe.js gives the card fields and the bank's 3-D Secure window).

- The seed's dunning story: ON_HOLD → the portal → a new card typed into Stripe.js's fields
  that needs 3-D Secure → confirmed in the bank's window → the confirmation page; the invoice
  PAID, the subscription ACTIVE, the receipt and reactivation emails, the merchant's webhooks in
  order. Our server never sees the card number.
- The same with the bank's window cancelled: still ON_HOLD, a clear message, nothing paid; then
  another card works.
- A renewal the bank wants confirmed: ON_HOLD and an email; its link signs in and opens the
  page that confirms the payment → the bank's window → ACTIVE.
- A payment whose confirmation is still pending: the page asks our API until Stripe's webhook
  has settled it, then shows the outcome by itself. The payment method page offers to confirm
  a waiting payment.

localstripe's Stripe.js has no working createPaymentMethod: the page saves the card with
confirmCardSetup on a SetupIntent our API starts (startCardSetup), which real Stripe.js does
too. A card needing 3-D Secure then asks twice (the setup, then the payment): localstripe
does not remember that the card was authenticated."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from gateway_stripe.conftest import (
    DECLINED_ON_CHARGE,
    DECLINED_ON_SAVE,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    THREE_DS,
    THREE_DS_ALWAYS,
    VISA,
    WEBHOOK_SECRET,
    LocalStripe,
)
from standardwebhooks.webhooks import Webhook

from app.cli import migrate_database
from conftest import BACKENDS, IN_CI, _pg_admin, _pg_url
from support import MailCatcher, free_port, text_body

from .helpers import (
    ARTIFACTS,
    PAGE_RULES_JS,
    ROOT,
    Customer,
    Server,
    Shots,
    portal_session,
    subscription_state,
    wait_for,
    wait_for_mail,
    watch_console,
)

# The 3-D Secure window of localstripe's Stripe.js.
COMPLETE = "Complete authentication"
FAIL = "Fail authentication"


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    try:
        import localstripe as _  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("localstripe is not installed (pip install -e '.[test]')")
        pytest.skip("localstripe is not installed (pip install -e '.[test]')")
    server = LocalStripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    server.start()
    yield server
    server.stop()


def _run(work: Coroutine[Any, Any, None]) -> None:
    """Runs a coroutine to its end from a synchronous fixture, in a thread of its own: the
    browser (Playwright's sync API) keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


@pytest.fixture(scope="module", params=BACKENDS)
def stripe_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    mail: MailCatcher,
    localstripe: LocalStripe,
) -> Iterator[Server]:
    """The portal in its own process on the backend, Stripe's API and Stripe.js from
    localstripe."""
    directory = tmp_path_factory.mktemp(f"stripe-pages-{request.param}")
    database = None
    if request.param == "sqlite":
        database_url = f"sqlite://{directory}/portal.sqlite3"
    else:
        database = f"portal_stripe_pages_{uuid.uuid4().hex[:10]}"
        try:
            _run(_pg_admin(f'CREATE DATABASE "{database}"'))
        except OSError as unreachable:
            if IN_CI:
                pytest.fail(f"PostgreSQL is unreachable: {unreachable!r}")
            pytest.skip(f"PostgreSQL is unreachable: {unreachable!r}")
        database_url = _pg_url(database)
    _run(migrate_database(database_url))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_VAR_DIR=str(directory / "var"),
        PORTAL_PUBLIC_URL=url,
        PORTAL_SMTP_URL=mail.url,
        PORTAL_SECRET_KEY="browser-test-secret-" + "x" * 40,
        PORTAL_RATE_LIMIT_LOGIN_IP="1000/hour",
        PORTAL_STRIPE_API_BASE=localstripe.url,
        PORTAL_STRIPE_JS_URL=f"{localstripe.url}/js.stripe.com/v3/",
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"stripe-server-{request.param}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            assert process.poll() is None, log_path.read_text()
        else:
            pytest.fail("the portal server did not start")
        server = Server(url, env)
        server.log_path = log_path  # type: ignore[attr-defined]
        yield server
        server.http.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        if database:
            _run(_pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


# The merchant's webhook endpoint -------------------------------------------------------------


class Hooks:
    """The merchant's endpoint on 127.0.0.1: each event it receives, checked as they would."""

    def __init__(self) -> None:
        self.secret = ""
        self.types: list[str] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                Webhook(hooks.secret).verify(body, dict(self.headers.items()))
                event = json.loads(body)
                hooks.types.append(str(event["type"]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hooks"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    receiver = Hooks()
    yield receiver
    receiver.close()


# A business on Stripe and its customers, through the merchant API ----------------------------


class Shop:
    def __init__(self, server: Server, localstripe: LocalStripe, hooks: Hooks) -> None:
        self.server = server
        self.stripe = httpx.Client(base_url=localstripe.url, auth=(SECRET_KEY, ""), timeout=10)
        # Each test starts with an empty Stripe sending its events to this business only.
        self.stripe.delete("/_config/data")
        made = server.create_business("Stripe Shop GmbH", "support@shop.example", "en")
        self.id, self.key = made["business_id"], made["test_api_key"]
        configured = server.gql(
            "mutation($i: ConfigurePaymentGatewayInput!) { configurePaymentGateway(input: $i) "
            "{ userErrors { code } } }",
            {
                "i": {
                    "provider": "STRIPE",
                    "secretKey": SECRET_KEY,
                    "publishableKey": PUBLISHABLE_KEY,
                    "webhookSecret": WEBHOOK_SECRET,
                }
            },
            self.key,
        )
        assert configured["configurePaymentGateway"]["userErrors"] == [], configured
        registered = self.stripe.post(
            "/_config/webhooks/portal",
            data={
                "url": f"{server.url}/gateway/stripe/{self.id}/webhook",
                "secret": WEBHOOK_SECRET,
                "events[]": ["payment_intent.succeeded", "payment_intent.payment_failed"],
            },
        )
        assert registered.status_code == 200, registered.text
        endpoint = server.gql(
            "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) "
            "{ secret userErrors { code } } }",
            {"i": {"url": hooks.url}},
            self.key,
        )["createWebhookEndpoint"]
        assert endpoint["userErrors"] == [], endpoint
        hooks.secret = endpoint["secret"]

    def payment_method(self, number: str) -> str:
        """What Stripe.js would give an API client for a card (made with the secret key:
        localstripe refuses the publishable key here)."""
        made = self.stripe.post(
            "/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
            },
        )
        assert made.status_code == 200, made.text
        return str(made.json()["id"])

    def authenticate(self, client_secret: str) -> None:
        """The bank's window confirmed, out of the page (as Stripe.js does when clicked)."""
        intent = client_secret.split("_secret_")[0]
        done = httpx.post(
            f"{self.stripe.base_url}/v1/payment_intents/{intent}/_authenticate",
            data={"key": PUBLISHABLE_KEY, "client_secret": client_secret, "success": "true"},
        )
        assert done.status_code == 200, done.text

    def subscribed(self, email: str, number: str) -> Customer:
        """An ACTIVE subscription to "Pro plan" (€15.00 a month) paid with `number`."""
        customer_id = self.server.gql(
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
            {"i": {"email": email, "name": "Ada Lovelace"}},
            self.key,
        )["createCustomer"]["customer"]["id"]
        customer = Customer(customer_id, email, self.key)
        product_id = self.server.gql(
            "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
            {"i": {"name": "Pro plan", "price": {"amount": 1500, "currency": "EUR"},
                   "interval": "MONTH"}},
            self.key,
        )["createProduct"]["product"]["id"]  # fmt: skip
        created = self.server.gql(
            "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) "
            "{ subscription { id status } payment { id } nextAction { clientSecret } "
            "userErrors { code } } }",
            {"i": {"customerId": customer.id, "productId": product_id,
                   "gatewayPaymentMethodId": self.payment_method(number)}},
            self.key,
        )["createSubscription"]  # fmt: skip
        assert created["userErrors"] == [], created
        customer.subscription_id = created["subscription"]["id"]
        if created["nextAction"]:
            self.authenticate(created["nextAction"]["clientSecret"])
            self.server.gql(
                "mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) "
                "{ userErrors { code } } }",
                {"i": {"paymentId": created["payment"]["id"]}},
                self.key,
            )
        assert subscription_state(self.server, customer)["status"] == "ACTIVE"
        return customer

    def renew_now(self, customer: Customer) -> None:
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        self.server.gql(
            "mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"subscriptionId": customer.subscription_id, "nextBillingDate": past}},
            self.key,
        )
        self.server.gql("mutation { runBillingCycle { failedCount } }", token=self.key)
        # The server's own scheduler may have got there first; either way it ends ON_HOLD.
        wait_for(lambda: subscription_state(self.server, customer)["status"] == "ON_HOLD", "hold")

    def put_on_hold(self, customer: Customer) -> None:
        """The dunning story's start: the customer switched to a card that saves but declines
        every charge, and the renewal failed."""
        swapped = self.server.gql(
            "mutation($i: UpdatePaymentMethodInput!) { updatePaymentMethod(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"subscriptionId": customer.subscription_id,
                   "gatewayPaymentMethodId": self.payment_method(DECLINED_ON_CHARGE)}},
            portal_session(self.server, customer),
        )  # fmt: skip
        assert swapped["updatePaymentMethod"]["userErrors"] == [], swapped
        self.renew_now(customer)

    def payments(self, customer: Customer) -> list[dict[str, Any]]:
        edges = self.server.gql(
            "query($c: ID!) { customer(id: $c) { payments(first: 20) { edges { node "
            "{ id status failureCode subscription { id } } } } } }",
            {"c": customer.id},
            self.key,
        )["customer"]["payments"]["edges"]
        return [edge["node"] for edge in edges]

    def invoices(self, customer: Customer) -> list[str]:
        edges = self.server.gql(
            "query($c: ID!) { customer(id: $c) { invoices(first: 20) { edges { node "
            "{ status } } } } }",
            {"c": customer.id},
            self.key,
        )["customer"]["invoices"]["edges"]
        return [edge["node"]["status"] for edge in edges]

    def event_types(self) -> list[str]:
        """The merchant's webhook events, oldest first."""
        edges = self.server.gql(
            "{ webhookEvents(first: 50) { edges { node { type } } } }", token=self.key
        )["webhookEvents"]["edges"]
        return [edge["node"]["type"] for edge in reversed(edges)]

    def close(self) -> None:
        self.stripe.close()


@pytest.fixture
def shop(stripe_server: Server, localstripe: LocalStripe, hooks: Hooks) -> Iterator[Shop]:
    made = Shop(stripe_server, localstripe, hooks)
    yield made
    made.close()


@pytest.fixture
def browser_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.csp_errors = watch_console(page)
    page.shots = Shots("test_stripe_pages", request.node.name)
    # Every request the page sends to our server, to show that no card number is among them.
    page.sent = []
    page.on("request", lambda r: page.sent.append(f"{r.url} {r.post_data or ''}"))
    yield page
    context.close()


def _look(page: Any, name: str) -> None:
    """Our page keeps the page rules and has no serious axe violation; a screenshot of it.
    localstripe's stand-in card fields (five unlabelled inputs; Stripe's own are a labelled
    iframe) are left out of both."""
    page.wait_for_load_state("load")
    stand_in = page.locator("#card-element input").count() > 0
    problems = page.evaluate(PAGE_RULES_JS)
    if stand_in:
        problems = [problem for problem in problems if problem != "no label: "]
    assert problems == [], f"{page.url}: {problems}"
    assert page.csp_errors == [], page.csp_errors
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
    context = {"exclude": [["#card-element"]]} if stand_in else None
    violations = Axe().run(page, context=context, options=options).response["violations"]
    blocking = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert blocking == [], f"{page.url}: {blocking}"
    page.shots(page, name)


def _sign_in(page: Any, server: Server, customer: Customer) -> None:
    link = server.gql(
        "mutation($i: CreateCustomerPortalSessionInput!) { createCustomerPortalSession(input: $i)"
        " { portalSession { link } } }",
        {"i": {"customerId": customer.id}},
        customer.key,
    )["createCustomerPortalSession"]["portalSession"]["link"]
    _follow(page, server, link)


def _follow(page: Any, server: Server, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/test/portal")


def _type_card(page: Any, number: str) -> None:
    """Into Stripe.js's card fields (localstripe's: number, MM, YY, CVC, postal code)."""
    page.get_by_label("Add a new card").check()
    fields = page.locator("#card-element input")
    fields.nth(0).wait_for()
    for index, value in enumerate((number, "12", "34", "123", "10115")):
        fields.nth(index).fill(value)


def _to_payment_method_page(page: Any) -> None:
    page.get_by_role("link", name="Update payment method and pay").first.click()
    page.get_by_role("button", name="Confirm changes").wait_for()
    page.wait_for_load_state("load")


def _no_card_number_sent(page: Any, server: Server, *numbers: str) -> None:
    ours = [line for line in page.sent if line.startswith(server.url)]
    assert ours
    for number in numbers:
        assert not [line for line in ours if number in line], number


def test_dunning_story_with_3d_secure_in_the_browser(
    shop: Shop, stripe_server: Server, mail: MailCatcher, hooks: Hooks, browser_page: Any
) -> None:
    server, page = stripe_server, browser_page
    customer = shop.subscribed("ada@example.com", VISA)
    shop.put_on_hold(customer)
    assert shop.invoices(customer)[0] == "OPEN"
    wait_for(lambda: "subscription.on_hold" in hooks.types, "the on_hold webhook")
    hooks.types.clear()

    _sign_in(page, server, customer)
    _look(page, "overview-on-hold")
    _to_payment_method_page(page)
    # Stripe.js's fields, not ours: no card number input of this page's own.
    page.locator("#card-element input").first.wait_for()
    assert page.locator("#card-element input").count() >= 4
    assert page.locator("input[name=number]").count() == 0
    _look(page, "payment-method-stripe")

    before = len(mail.messages)
    _type_card(page, THREE_DS)
    page.get_by_role("button", name="Confirm changes").click()
    # Saving the card: the bank's window.
    page.get_by_role("button", name=COMPLETE).click()
    # Paying with it: the authenticate step opens the bank's window again at once.
    page.wait_for_url("**/authenticate?**")
    page.get_by_role("button", name=COMPLETE).click()
    page.get_by_role("heading", name="Payment successful").wait_for()
    assert "Pro plan is active again" in page.inner_text("body")
    _look(page, "confirmation")

    state = subscription_state(server, customer)
    assert state["status"] == "ACTIVE" and state["outstandingAmount"]["amount"] == 0
    assert state["paymentMethod"]["last4"] == "3184"
    assert shop.invoices(customer)[0] == "PAID"
    wait_for_mail(mail, customer.email, "Receipt for your payment", after=before)
    wait_for_mail(mail, customer.email, "is active again", after=before)
    # The merchant's events in the order they happened (the payment, then the reactivation),
    # each delivered to their endpoint once, signed.
    events = shop.event_types()
    assert events[-2:] == ["payment.succeeded", "subscription.active"], events
    assert events[events.index("subscription.on_hold") :].count("subscription.active") == 1
    wait_for(lambda: len(hooks.types) >= 2, "the webhooks")
    assert sorted(hooks.types) == ["payment.succeeded", "subscription.active"], hooks.types
    _no_card_number_sent(page, server, THREE_DS, "4000 0027 6000 3184")
    # Nor is a card number or a client secret in the server's log.
    log = server.log_path.read_text()  # type: ignore[attr-defined]
    assert THREE_DS not in log and "_secret_" not in log


def test_the_bank_window_cancelled_then_another_card(
    shop: Shop, stripe_server: Server, mail: MailCatcher, hooks: Hooks, browser_page: Any
) -> None:
    server, page = stripe_server, browser_page
    customer = shop.subscribed("bo@example.com", VISA)
    shop.put_on_hold(customer)
    _sign_in(page, server, customer)
    _to_payment_method_page(page)

    # A card the bank refuses to save: said next to the fields; nothing reaches our server.
    _type_card(page, DECLINED_ON_SAVE)
    page.get_by_role("button", name="Confirm changes").click()
    page.get_by_text("Your card could not be saved: Your card was declined.").wait_for()
    assert page.get_by_role("button", name="Confirm changes").is_enabled()
    assert "/payment-method" in page.url

    _type_card(page, THREE_DS)
    page.get_by_role("button", name="Confirm changes").click()
    page.get_by_role("button", name=COMPLETE).click()  # the card is saved...
    page.wait_for_url("**/authenticate?**")
    page.get_by_role("button", name=FAIL).click()  # ...but the payment is not confirmed
    alert = page.get_by_role("alert")
    alert.wait_for()
    text = alert.inner_text()
    assert "Your bank did not confirm the payment." in text
    assert "Nothing was charged and your subscription is still paused." in text
    _look(page, "cancelled")

    state = subscription_state(server, customer)
    assert state["status"] == "ON_HOLD" and state["outstandingAmount"]["amount"] == 1500
    assert shop.invoices(customer)[0] == "OPEN"
    statuses = [p["status"] for p in shop.payments(customer)]
    assert statuses[0] == "FAILED" and "REQUIRES_ACTION" not in statuses
    assert statuses.count("SUCCEEDED") == 1  # the first period only

    # Another card works, without the bank.
    before = len(mail.messages)
    _type_card(page, VISA)
    page.get_by_role("button", name="Confirm changes").click()
    page.get_by_role("heading", name="Payment successful").wait_for()
    state = subscription_state(server, customer)
    assert state["status"] == "ACTIVE" and state["paymentMethod"]["last4"] == "4242"
    assert shop.invoices(customer)[0] == "PAID"
    wait_for_mail(mail, customer.email, "is active again", after=before)
    _no_card_number_sent(page, server, VISA, THREE_DS)


def test_a_renewal_the_bank_wants_confirmed_from_the_email(
    shop: Shop, stripe_server: Server, mail: MailCatcher, browser_page: Any
) -> None:
    server, page = stripe_server, browser_page
    customer = shop.subscribed("cy@example.com", THREE_DS_ALWAYS)
    before = len(mail.messages)
    shop.renew_now(customer)
    renewal = shop.payments(customer)[0]
    assert renewal["status"] == "REQUIRES_ACTION"

    message = wait_for_mail(mail, customer.email, "Please confirm your payment", after=before)
    # The link signs in and opens the page that confirms the payment.
    links = re.findall(r"http://\S+/test/session/\S+", text_body(message))
    assert links and "next=" in links[0], text_body(message)
    page.goto(links[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/authenticate?payment=*")
    page.get_by_role("button", name="Confirm the payment").wait_for()
    _look(page, "authenticate")
    before = len(mail.messages)
    page.get_by_role("button", name="Confirm the payment").click()
    page.get_by_role("button", name=COMPLETE).click()
    page.get_by_role("heading", name="Payment successful").wait_for()
    _look(page, "confirmation")
    state = subscription_state(server, customer)
    assert state["status"] == "ACTIVE" and state["outstandingAmount"]["amount"] == 0
    assert shop.payments(customer)[0] == {**renewal, "status": "SUCCEEDED"}
    wait_for_mail(mail, customer.email, "is active again", after=before)


def test_a_pending_payment_is_shown_once_stripe_settles_it(
    shop: Shop, stripe_server: Server, browser_page: Any
) -> None:
    """The bank confirmed elsewhere; Stripe's webhook settles the payment while the page
    waits, asking our API; then the page shows the outcome."""
    server, page = stripe_server, browser_page
    customer = shop.subscribed("di@example.com", THREE_DS_ALWAYS)
    shop.renew_now(customer)
    renewal = shop.payments(customer)[0]
    _sign_in(page, server, customer)
    # The payment method page offers to confirm the waiting payment (or to give another card).
    _to_payment_method_page(page)
    page.get_by_role("heading", name="Your bank asks you to confirm a payment").wait_for()
    assert page.get_by_role("link", name="Confirm the payment").get_attribute("href") == (
        f"/test/portal/subscriptions/{customer.subscription_id}/authenticate"
        f"?payment={renewal['id']}"
    )
    _look(page, "payment-method-waiting")
    page.goto(page.url + "?lang=de")
    page.get_by_role("heading", name="Ihre Bank bittet Sie, eine Zahlung zu bestätigen").wait_for()
    _look(page, "payment-method-waiting-de")
    page.get_by_role("link", name="Zahlung bestätigen").click()
    page.get_by_role("button", name="Zahlung bestätigen").wait_for()
    _look(page, "authenticate-de")
    page.goto(
        f"{server.url}/test/portal/subscriptions/{customer.subscription_id}/confirmation"
        f"?payment={renewal['id']}&lang=de"
    )
    page.get_by_text("wird bestätigt").wait_for()
    _look(page, "pending-de")
    page.goto(
        f"{server.url}/test/portal/subscriptions/{customer.subscription_id}/confirmation"
        f"?payment={renewal['id']}&lang=en"
    )
    page.get_by_text("is being confirmed").wait_for()
    _look(page, "pending")
    secret = server.gql(
        "query($id: ID!) { node(id: $id) { ... on Payment { nextAction { clientSecret } } } }",
        {"id": renewal["id"]},
        customer.key,
    )["node"]["nextAction"]["clientSecret"]
    shop.authenticate(secret)
    page.get_by_role("heading", name="Payment successful").wait_for()
    assert subscription_state(server, customer)["status"] == "ACTIVE"
