"""Helpers the tests share: GraphQL over HTTP, a real SMTP server, mail delivery, links."""

from __future__ import annotations

import email
import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from starlette.requests import Request

from app.main import message_id_domain
from app.settings import Settings
from mailers import SMTPTransport
from resolvers.context import Context
from scripts.dashboard_data import DASHBOARD as DASHBOARD  # shared with the benchmarks
from services import outbox
from services.access.principal import Principal
from services.ratelimit import RateLimiter
from services.tasks import task_handlers

LINK_RE = re.compile(r"https?://[^\s<>\"']+/(?:test/)?(?:session|confirm-email)/[A-Za-z0-9_\-]+")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MailCatcher:
    """A real SMTP server on loopback that keeps what it receives."""

    port: int = field(default_factory=free_port)
    messages: list[Message] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)  # RCPT TO of each message
    controller: Controller | None = None
    smtputf8: bool = False  # whether the server offers SMTPUTF8
    refuse: set[str] = field(default_factory=set)  # recipients answered 550

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


def text_body(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content())


def html_body(message: Message) -> str:
    part = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    return str(part.get_content())


def link_in(message: Message) -> str:
    found = LINK_RE.findall(text_body(message))
    assert found, f"no portal link in: {text_body(message)!r}"
    return found[0]


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


async def deliver_mail(settings: Settings) -> int:
    """What the outbox worker does on one pass, run now: the due tasks (which may write
    emails), then the due emails."""
    assert settings.smtp_url
    await outbox.run_due_tasks(settings.secret_key, task_handlers(settings))
    return await outbox.deliver_due_messages(
        secret_key=settings.secret_key,
        mail=SMTPTransport(settings.smtp_url, timeout=5),
        message_id_domain=message_id_domain(settings),
    )


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, token)
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """Expects a GraphQL error; returns the first."""
        response = await self.raw(query, variables, token)
        body = response.json()
        assert body.get("errors"), body
        return body["errors"][0]


def code_of(error: dict[str, Any]) -> str:
    return str(error["extensions"]["code"])


CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id email name phoneNumber }
    userErrors { code field message }
  }
}"""

CREATE_PORTAL_SESSION = """
mutation($input: CreateCustomerPortalSessionInput!) {
  createCustomerPortalSession(input: $input) {
    portalSession { link expiresAt }
    userErrors { code field message }
  }
}"""

SIGN_IN = """
mutation($input: SignInInput!) {
  signIn(input: $input) {
    sessionToken expiresAt returnUrl
    customer { id email }
    userErrors { code message }
  }
}"""


async def create_customer(
    gql: GraphQLClient, key: str, email: str, name: str = "Test Customer"
) -> str:
    data = await gql(CREATE_CUSTOMER, {"input": {"email": email, "name": name}}, token=key)
    assert data["createCustomer"]["userErrors"] == []
    return str(data["createCustomer"]["customer"]["id"])


async def portal_link(gql: GraphQLClient, key: str, customer_id: str, **extra: Any) -> str:
    data = await gql(
        CREATE_PORTAL_SESSION, {"input": {"customerId": customer_id, **extra}}, token=key
    )
    payload = data["createCustomerPortalSession"]
    assert payload["userErrors"] == [], payload
    return str(payload["portalSession"]["link"])


async def session_for(gql: GraphQLClient, key: str, customer_id: str) -> str:
    """A portal session token for the customer, through the merchant's magic link."""
    link = await portal_link(gql, key, customer_id)
    data = await gql(SIGN_IN, {"input": {"token": token_of(link)}})
    assert data["signIn"]["userErrors"] == [], data
    return str(data["signIn"]["sessionToken"])


CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } userErrors { code field message } }
}"""

CREATE_SUBSCRIPTION = """
mutation($input: CreateSubscriptionInput!) {
  createSubscription(input: $input) {
    subscription { id status nextBillingDate paymentMethod { id brand last4 } }
    payment { id status amount { amount currency } failureCode }
    invoice { id number status total { amount } }
    userErrors { code field message }
  }
}"""

UPDATE_PAYMENT_METHOD = """
mutation($input: UpdatePaymentMethodInput!) {
  updatePaymentMethod(input: $input) {
    subscription { id status nextBillingDate paymentMethod { id brand last4 }
                   outstandingAmount { amount currency } }
    payment { id status amount { amount } failureCode failureMessage }
    invoice { id number status amountDue { amount } }
    userErrors { code field message }
  }
}"""

GOOD_CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2034, "cvc": "123"}


def card(number: str) -> dict[str, Any]:
    return {**GOOD_CARD, "number": number}


async def create_product(
    gql: GraphQLClient,
    key: str,
    *,
    amount: int = 1500,
    interval: str | None = "MONTH",
    **extra: Any,
) -> str:
    fields: dict[str, Any] = {
        "name": extra.pop("name", "Pro plan"),
        "price": {"amount": amount, "currency": extra.pop("currency", "EUR")},
        **extra,
    }
    if interval:
        fields["interval"] = interval
    data = await gql(CREATE_PRODUCT, {"input": fields}, token=key)
    assert data["createProduct"]["userErrors"] == [], data
    return str(data["createProduct"]["product"]["id"])


async def subscribe(
    gql: GraphQLClient,
    key: str,
    customer_id: str,
    product_id: str,
    number: str = "4242424242424242",
) -> dict[str, Any]:
    data = await gql(
        CREATE_SUBSCRIPTION,
        {"input": {"customerId": customer_id, "productId": product_id, "card": card(number)}},
        token=key,
    )
    return dict(data["createSubscription"])


DB_CLIENT_LOGGER = "tortoise.db_client"
# Tortoise logs connection housekeeping on the same logger; those are not statements.
NOT_STATEMENTS = ("Created connection", "Closed connection")


class StatementRecorder(logging.Handler):
    """Keeps the SQL of every statement the Tortoise clients execute."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if message.startswith(NOT_STATEMENTS):
            return
        # Queries are logged as ("%s: %s", query, values), scripts as the bare query.
        args = record.args
        query = str(args[0]) if isinstance(args, tuple) and args else message
        self.statements.append(" ".join(query.split()))


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    logger = logging.getLogger(DB_CLIENT_LOGGER)
    recorder = StatementRecorder()
    level = logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    try:
        yield recorder.statements
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)


def schema_context(settings: Settings, principal: Principal, language: str = "en") -> Context:
    """A request's context for running a query on a schema directly (schema.execute), as the
    caller `principal`, with an Accept-Language of `language`."""
    request = Request({"type": "http", "headers": [(b"accept-language", language.encode())]})
    return Context(
        request=request,
        response=None,
        settings=settings,
        principal=principal,
        limiter=RateLimiter(None),
        client_ip="203.0.113.7",
    )


def answer_of(result: Any) -> dict[str, Any]:
    """A schema.execute result as comparable data: its data, and each error's message, path
    and code."""
    return {
        "data": result.data,
        "errors": [
            (e.message, e.path, (e.extensions or {}).get("code")) for e in result.errors or []
        ],
    }
