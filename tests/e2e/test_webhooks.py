"""Webhooks as a merchant lives with them: endpoints managed through GraphQL, every event signed
per Standard Webhooks and verified by a real HTTP receiver on loopback with the
`standardwebhooks` package, retries on the published schedule (the clock is moved, nothing
sleeps), 410 and days of failures disabling an endpoint, secret rotation, and no requests to
private addresses when they are not allowed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from tortoise import connections
from tortoise.transactions import in_transaction

import mailers
from conftest import Portal, make_portal
from models import Mode
from models.clock import clock
from models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from services.businesses import NewBusiness
from services.events import record_event
from services.webhooks import addresses, sender
from services.webhooks.delivery import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    PassSummary,
    deliver_due_webhooks,
)
from support import GOOD_CARD, MailCatcher, code_of, create_customer, create_product, deliver_mail

# A merchant's receiver


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """A small HTTP server on 127.0.0.1 that verifies each request as a merchant would and
    answers with `status` (a 2xx only when the signature verifies)."""

    secrets: list[str] = field(default_factory=list)
    status: int = 200
    port: int = 0
    received: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None
    answer_after: float = 0.0  # seconds before answering, to keep requests in flight
    in_flight: set[str] = field(default_factory=set)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)
    overlapping: list[str] = field(default_factory=list)  # a message id arriving twice at once

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Down: the port refuses connections until `start` again."""
        if self.server is not None:
            self.server.close()
            for task in self.handlers:
                task.cancel()
            await asyncio.gather(*self.handlers, return_exceptions=True)
            await self.server.wait_closed()
            self.server = None

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def verifies(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await self._answer(reader, writer)
        finally:
            self.handlers.discard(task)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.rstrip("\r\n").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        verified = self.verifies(body, headers)
        self.received.append(Received(request_line.split(" ")[1], headers, body, verified))
        message = f"{request_line} {headers.get('webhook-id')}"
        if message in self.in_flight:
            self.overlapping.append(message)
        self.in_flight.add(message)
        try:
            if self.answer_after:
                await asyncio.sleep(self.answer_after)
        finally:
            self.in_flight.discard(message)
        status = self.status if verified else 400
        with contextlib.suppress(ConnectionError):  # the sender may have given up waiting
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
            )
            await writer.drain()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    yield found
    await found.stop()


# GraphQL

ENDPOINT_FIELDS = "id url eventTypes description disabled disabledReason failingSince"
CREATE = f"""
mutation($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{
    webhookEndpoint {{ {ENDPOINT_FIELDS} }} secret userErrors {{ code field message }}
  }}
}}"""
UPDATE = f"""
mutation($input: UpdateWebhookEndpointInput!) {{
  updateWebhookEndpoint(input: $input) {{
    webhookEndpoint {{ {ENDPOINT_FIELDS} }} userErrors {{ code field message }}
  }}
}}"""
DELETE = """
mutation($input: DeleteWebhookEndpointInput!) {
  deleteWebhookEndpoint(input: $input) { webhookEndpoint { id } userErrors { code } }
}"""
ROTATE = """
mutation($input: RotateWebhookSecretInput!) {
  rotateWebhookSecret(input: $input) {
    webhookEndpoint { id previousSecretExpiresAt } secret userErrors { code }
  }
}"""
REDELIVER = """
mutation($input: RedeliverEventInput!) {
  redeliverEvent(input: $input) {
    webhookEvent { id } deliveries { status nextAttemptAt endpoint { id } } userErrors { code }
  }
}"""
ENDPOINT = f"query($id: ID!) {{ webhookEndpoint(id: $id) {{ {ENDPOINT_FIELDS} }} }}"
ENDPOINTS = f"{{ webhookEndpoints {{ totalCount edges {{ node {{ {ENDPOINT_FIELDS} }} }} }} }}"
EVENTS = """
query($endpointId: ID, $eventTypes: [String!]) {
  webhookEvents(endpointId: $endpointId, eventTypes: $eventTypes) {
    totalCount edges { node { id type } }
  }
}"""
EVENT_LOG = """
query($id: ID!) {
  webhookEvent(id: $id) {
    id type payload
    deliveries { status attemptCount nextAttemptAt deliveredAt endpoint { id url } }
    attempts(first: 20) {
      totalCount
      edges { node {
        id attemptNumber succeeded responseStatus durationMs error createdAt endpoint { id }
      } }
    }
  }
}"""


async def create_endpoint(portal: Portal, key: str, url: str, **fields: Any) -> tuple[str, str]:
    data = await portal.gql(CREATE, {"input": {"url": url, **fields}}, token=key)
    payload = data["createWebhookEndpoint"]
    assert payload["userErrors"] == [], payload
    return str(payload["webhookEndpoint"]["id"]), str(payload["secret"])


async def create_errors(portal: Portal, key: str, **fields: Any) -> list[str]:
    data = await portal.gql(CREATE, {"input": fields}, token=key)
    payload = data["createWebhookEndpoint"]
    assert payload["webhookEndpoint"] is None and payload["secret"] is None
    return [e["code"] for e in payload["userErrors"]]


async def event_log(portal: Portal, key: str, event_id: str) -> dict[str, Any]:
    return dict((await portal.gql(EVENT_LOG, {"id": event_id}, token=key))["webhookEvent"])


async def emit(
    business: NewBusiness,
    event_type: str = "payment.succeeded",
    mode: Mode = Mode.TEST,
    **data: Any,
) -> WebhookEvent:
    """What the billing services do: an event in the transaction of the change."""
    async with in_transaction():
        return await record_event(business.business.id, mode, event_type, data or {"n": 1})


async def deliver(portal: Portal) -> PassSummary:
    """What the delivery worker does on one pass, run now."""
    return await deliver_due_webhooks(portal.settings)


async def delivery_of(event: WebhookEvent) -> WebhookDelivery:
    [row] = await WebhookDelivery.filter(event_id=event.id)
    return row


# Endpoints


async def test_endpoints_are_managed_by_the_merchant_and_the_secret_is_shown_once(
    portal: Portal, acme: NewBusiness, globex: NewBusiness, receiver: Receiver
) -> None:
    key = acme.test_api_key
    data = await portal.gql(
        CREATE,
        {
            "input": {
                "url": receiver.url(),
                "eventTypes": ["payment.succeeded", "subscription.active", "payment.succeeded"],
                "description": "  Orders   backend ",
            }
        },
        token=key,
    )
    payload = data["createWebhookEndpoint"]
    assert payload["userErrors"] == []
    endpoint = payload["webhookEndpoint"]
    endpoint_id, secret = endpoint["id"], payload["secret"]
    assert endpoint_id.startswith("whk_") and secret.startswith("whsec_")
    assert endpoint["eventTypes"] == ["payment.succeeded", "subscription.active"]
    assert endpoint["description"] == "Orders backend"
    assert endpoint["disabled"] is False

    # Not retrievable later: the type has no secret, and the database holds it sealed.
    refused = await portal.gql.error(
        f'{{ webhookEndpoint(id: "{endpoint_id}") {{ secret }} }}', token=key
    )
    assert "secret" in refused["message"]
    rows = await connections.get("default").execute_query_dict("SELECT * FROM webhook_endpoint")
    assert secret not in repr(rows) and secret.removeprefix("whsec_") not in repr(rows)

    listed = await portal.gql(ENDPOINTS, token=key)
    assert listed["webhookEndpoints"]["totalCount"] == 1
    node = await portal.gql(
        f'{{ node(id: "{endpoint_id}") {{ id ... on WebhookEndpoint {{ url }} }} }}', token=key
    )
    assert node["node"]["url"] == receiver.url()

    # Every event type when none are given; null turns a filter off again.
    everything, _ = await create_endpoint(portal, key, receiver.url("/all"))
    got = await portal.gql(ENDPOINT, {"id": everything}, token=key)
    assert got["webhookEndpoint"]["eventTypes"] is None
    changed = await portal.gql(
        UPDATE,
        {"input": {"webhookEndpointId": endpoint_id, "eventTypes": None, "description": None}},
        token=key,
    )
    assert changed["updateWebhookEndpoint"]["webhookEndpoint"]["eventTypes"] is None
    assert changed["updateWebhookEndpoint"]["webhookEndpoint"]["description"] is None
    disabled = await portal.gql(
        UPDATE, {"input": {"webhookEndpointId": endpoint_id, "disabled": True}}, token=key
    )
    assert disabled["updateWebhookEndpoint"]["webhookEndpoint"]["disabledReason"] == "MANUAL"

    # Validation.
    assert await create_errors(portal, key, url="ftp://example.com/x") == ["INVALID_URL"]
    assert await create_errors(portal, key, url="https://user:pw@example.com/") == ["INVALID_URL"]
    assert await create_errors(portal, key, url="not a url") == ["INVALID_URL"]
    assert await create_errors(
        portal, key, url=receiver.url(), eventTypes=["payment.succeeded", "payment.exploded"]
    ) == ["INVALID_EVENT_TYPE"]
    assert await create_errors(portal, key, url=receiver.url(), eventTypes=[]) == [
        "INVALID_EVENT_TYPE"
    ]
    bad_update = await portal.gql(
        UPDATE, {"input": {"webhookEndpointId": endpoint_id, "url": "gopher://x"}}, token=key
    )
    assert [e["code"] for e in bad_update["updateWebhookEndpoint"]["userErrors"]] == ["INVALID_URL"]
    types = await portal.gql("{ webhookEventTypes }", token=key)
    assert {"payment.succeeded", "license_key.created"} <= set(types["webhookEventTypes"])

    # Someone else's endpoint does not exist: another business, or the other mode.
    for other in (globex.test_api_key, acme.live_api_key):
        error = await portal.gql.error(ENDPOINT, {"id": endpoint_id}, token=other)
        assert code_of(error) == "NOT_FOUND"
        for query, name in (
            (UPDATE, "updateWebhookEndpoint"),
            (ROTATE, "rotateWebhookSecret"),
            (DELETE, "deleteWebhookEndpoint"),
        ):
            answer = await portal.gql(
                query, {"input": {"webhookEndpointId": endpoint_id}}, token=other
            )
            assert [e["code"] for e in answer[name]["userErrors"]] == ["NOT_FOUND"]
        assert (await portal.gql(ENDPOINTS, token=other))["webhookEndpoints"]["totalCount"] == 0
    # Customers never see endpoints.
    error = await portal.gql.error(ENDPOINTS)
    assert code_of(error) == "UNAUTHENTICATED"

    deleted = await portal.gql(DELETE, {"input": {"webhookEndpointId": endpoint_id}}, token=key)
    assert deleted["deleteWebhookEndpoint"]["webhookEndpoint"]["id"] == endpoint_id
    error = await portal.gql.error(ENDPOINT, {"id": endpoint_id}, token=key)
    assert code_of(error) == "NOT_FOUND"


# Delivery


async def test_a_purchase_reaches_the_endpoint_signed_as_standard_webhooks(
    portal: Portal, acme: NewBusiness, receiver: Receiver
) -> None:
    key = acme.test_api_key
    endpoint_id, secret = await create_endpoint(
        portal, key, receiver.url(), eventTypes=["license_key.created"]
    )
    receiver.secrets = [secret]
    customer_id = await create_customer(portal.gql, key, "ada@example.com", "Ada")
    product_id = await create_product(
        portal.gql, key, interval=None, name="Editor", licenseKeyEnabled=True
    )
    paid = await portal.gql(
        "mutation($input: CreatePaymentInput!) { createPayment(input: $input)"
        " { payment { status } userErrors { code } } }",
        {"input": {"customerId": customer_id, "productId": product_id, "card": GOOD_CARD}},
        token=key,
    )
    assert paid["createPayment"]["payment"]["status"] == "SUCCEEDED"

    summary = await deliver(portal)
    assert summary.succeeded == summary.attempted == 1
    [request] = receiver.received
    assert request.verified and request.path == "/hooks"
    event = await WebhookEvent.get(id=request.headers["webhook-id"])
    assert event.type == "license_key.created"
    # The body is Dodo's shape, and exactly the bytes that were signed.
    assert request.payload == event.payload
    assert set(request.payload) == {"business_id", "type", "timestamp", "data"}
    assert request.payload["business_id"] == acme.business.id
    assert request.payload["data"]["customer_id"] == customer_id
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert len(request.headers["webhook-signature"].split(" ")) == 1

    log = await event_log(portal, key, event.id)
    assert log["payload"] == event.payload
    [delivery] = log["deliveries"]
    assert delivery["status"] == "SUCCEEDED" and delivery["attemptCount"] == 1
    assert delivery["endpoint"]["id"] == endpoint_id and delivery["deliveredAt"]
    [attempt] = [e["node"] for e in log["attempts"]["edges"]]
    assert attempt["attemptNumber"] == 1 and attempt["succeeded"] is True
    assert attempt["responseStatus"] == 200 and attempt["durationMs"] >= 0
    assert attempt["error"] is None and attempt["endpoint"]["id"] == endpoint_id
    node = await portal.gql(
        f'{{ node(id: "{attempt["id"]}") {{ ... on WebhookAttempt {{ responseStatus }} }} }}',
        token=key,
    )
    assert node["node"]["responseStatus"] == 200

    # Delivered once: later passes send nothing more.
    clock.advance(timedelta(days=2))
    assert (await deliver(portal)).attempted == 0
    assert len(receiver.received) == 1


async def test_each_endpoint_gets_the_types_it_asked_for_in_its_mode(
    portal: Portal, acme: NewBusiness, globex: NewBusiness, receiver: Receiver
) -> None:
    key = acme.test_api_key
    everything, secret_all = await create_endpoint(portal, key, receiver.url("/all"))
    payments, secret_pay = await create_endpoint(
        portal, key, receiver.url("/payments"), eventTypes=["payment.succeeded"]
    )
    _live, secret_live = await create_endpoint(portal, acme.live_api_key, receiver.url("/live"))
    _other, secret_other = await create_endpoint(portal, globex.test_api_key, receiver.url("/gx"))
    receiver.secrets = [secret_all, secret_pay, secret_live, secret_other]

    paid = await emit(acme, "payment.succeeded", payment_id="pay_1")
    active = await emit(acme, "subscription.active", subscription_id="sub_1")
    updated = await emit(acme, "customer.updated", customer_id="cus_1")
    live = await emit(acme, "payment.succeeded", mode=Mode.LIVE, payment_id="pay_live")
    summary = await deliver(portal)
    assert summary.fanned_out == summary.succeeded == 5

    by_path: dict[str, list[str]] = {}
    for request in receiver.received:
        assert request.verified
        by_path.setdefault(request.path, []).append(request.headers["webhook-id"])
    assert sorted(by_path["/all"]) == sorted([paid.id, active.id, updated.id])
    assert by_path["/payments"] == [paid.id]
    assert by_path["/live"] == [live.id]
    assert "/gx" not in by_path

    # The event log, filtered.
    everything_listed = await portal.gql(EVENTS, token=key)
    assert everything_listed["webhookEvents"]["totalCount"] == 3  # test mode only
    only = await portal.gql(EVENTS, {"eventTypes": ["subscription.active"]}, token=key)
    assert [e["node"]["id"] for e in only["webhookEvents"]["edges"]] == [active.id]
    sent = await portal.gql(EVENTS, {"endpointId": payments}, token=key)
    assert [e["node"]["id"] for e in sent["webhookEvents"]["edges"]] == [paid.id]
    both = await portal.gql(
        EVENTS, {"endpointId": everything, "eventTypes": ["payment.succeeded"]}, token=key
    )
    assert [e["node"]["id"] for e in both["webhookEvents"]["edges"]] == [paid.id]
    error = await portal.gql.error(EVENTS, {"endpointId": payments}, token=globex.test_api_key)
    assert code_of(error) == "NOT_FOUND"
    error = await portal.gql.error(
        "query($id: ID!) { webhookEvent(id: $id) { id } }",
        {"id": paid.id},
        token=globex.test_api_key,
    )
    assert code_of(error) == "NOT_FOUND"

    # A disabled endpoint gets nothing new; redelivery to one endpoint sends just there.
    await portal.gql(
        UPDATE, {"input": {"webhookEndpointId": payments, "disabled": True}}, token=key
    )
    later = await emit(acme, "payment.succeeded", payment_id="pay_2")
    await deliver(portal)
    assert [r.path for r in receiver.received if r.headers["webhook-id"] == later.id] == ["/all"]
    redone = await portal.gql(
        REDELIVER, {"input": {"eventId": active.id, "webhookEndpointId": everything}}, token=key
    )
    assert redone["redeliverEvent"]["userErrors"] == []
    assert [d["status"] for d in redone["redeliverEvent"]["deliveries"]] == ["PENDING"]
    refused = await portal.gql(
        REDELIVER, {"input": {"eventId": active.id, "webhookEndpointId": payments}}, token=key
    )
    assert [e["code"] for e in refused["redeliverEvent"]["userErrors"]] == ["INVALID_STATE"]
    await deliver(portal)
    assert [r.path for r in receiver.received if r.headers["webhook-id"] == active.id] == [
        "/all",
        "/all",
    ]
    log = await event_log(portal, key, active.id)
    assert [d["status"] for d in log["deliveries"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert log["attempts"]["totalCount"] == 2


async def test_receiver_down_then_up_gets_the_event_on_the_retry_schedule(
    portal: Portal, acme: NewBusiness, receiver: Receiver
) -> None:
    clock.freeze()
    key = acme.test_api_key
    endpoint_id, secret = await create_endpoint(portal, key, receiver.url())
    receiver.secrets = [secret]
    await receiver.stop()  # down: connections are refused
    event = await emit(acme, "payment.succeeded", payment_id="pay_9")

    outcomes: list[int | None] = []
    for number, planned in enumerate([timedelta(0), *RETRY_DELAYS[:4]], start=1):
        if planned:
            clock.advance(planned * 0.89)  # the earliest the jitter allows is 0.9
            assert (await deliver(portal)).attempted == 0, f"attempt {number} came early"
            clock.advance(planned * 0.22)  # the latest is 1.1
        if number == 3:
            await receiver.start()  # up again, on the same port, but failing
            receiver.status = 500
        if number == 5:
            receiver.status = 200
        summary = await deliver(portal)
        assert summary.attempted == 1, f"attempt {number} did not happen"
        row = await delivery_of(event)
        assert row.attempts == number
        outcomes.append(row.last_response_status)
        if number < 5:
            assert row.status == WebhookDeliveryStatus.PENDING
            wait = row.next_attempt_at - clock.now()  # type: ignore[operator]
            assert RETRY_DELAYS[number - 1] * 0.9 <= wait <= RETRY_DELAYS[number - 1] * 1.1
            endpoint = await WebhookEndpoint.get(id=endpoint_id)
            assert endpoint.failing_since is not None
    assert outcomes == [None, None, 500, 500, 200]

    # The receiver saw the three requests that reached it, each verified, same message id.
    assert [r.verified for r in receiver.received] == [True, True, True]
    assert {r.headers["webhook-id"] for r in receiver.received} == {event.id}
    log = await event_log(portal, key, event.id)
    [delivery] = log["deliveries"]
    assert delivery["status"] == "SUCCEEDED" and delivery["attemptCount"] == 5
    attempts = [e["node"] for e in log["attempts"]["edges"]]
    assert [a["attemptNumber"] for a in attempts] == [5, 4, 3, 2, 1]
    assert [a["responseStatus"] for a in attempts] == [200, 500, 500, None, None]
    assert [a["succeeded"] for a in attempts] == [True, False, False, False, False]
    assert all(a["durationMs"] is not None and a["durationMs"] >= 0 for a in attempts)
    assert "could not connect" in attempts[-1]["error"]
    assert attempts[1]["error"] == "non-2xx response"
    assert (await WebhookEndpoint.get(id=endpoint_id)).failing_since is None

    clock.advance(timedelta(days=3))
    assert (await deliver(portal)).attempted == 0
    assert len(receiver.received) == 3


async def _step_through_retries(portal: Portal) -> int:
    """Passes until nothing is waiting, moving the clock to each next attempt."""
    attempts = 0
    while True:
        attempts += (await deliver(portal)).attempted
        waiting = (
            await WebhookDelivery.filter(status=WebhookDeliveryStatus.PENDING)
            .order_by("next_attempt_at")
            .first()
        )
        if waiting is None:
            return attempts
        clock.advance(max(waiting.next_attempt_at - clock.now(), timedelta(0)))  # type: ignore[operator]


async def test_an_endpoint_failing_for_three_days_is_disabled_and_the_merchant_emailed(
    portal: Portal, acme: NewBusiness, receiver: Receiver, smtp: MailCatcher
) -> None:
    clock.freeze()
    start = clock.now()
    key = acme.test_api_key
    endpoint_id, secret = await create_endpoint(portal, key, receiver.url())
    receiver.secrets = [secret]
    receiver.status = 503

    first = await emit(acme, "payment.failed", payment_id="pay_1")
    assert await _step_through_retries(portal) == MAX_ATTEMPTS == 8  # then it gives up
    assert (await delivery_of(first)).status == WebhookDeliveryStatus.FAILED
    endpoint = await WebhookEndpoint.get(id=endpoint_id)
    assert endpoint.disabled_at is None and endpoint.failing_since == start
    assert timedelta(hours=24) < clock.now() - start < timedelta(hours=31)

    clock.advance(start + timedelta(hours=60) - clock.now())
    second = await emit(acme, "payment.failed", payment_id="pay_2")
    # Its 7th attempt comes after 72 hours of failures: the endpoint is turned off.
    assert await _step_through_retries(portal) == 7
    endpoint = await WebhookEndpoint.get(id=endpoint_id)
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_at - start >= timedelta(hours=72)
    assert (await delivery_of(second)).status == WebhookDeliveryStatus.CANCELLED
    got = await portal.gql(ENDPOINT, {"id": endpoint_id}, token=key)
    assert got["webhookEndpoint"]["disabled"] is True
    assert got["webhookEndpoint"]["disabledReason"] == "FAILING"

    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("support@acme.example")
    assert "disabled" in str(mail["Subject"]) and "Acme GmbH" in str(mail["Subject"])
    assert receiver.url() in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    # Nothing new goes to it while it is off.
    third = await emit(acme, "payment.failed", payment_id="pay_3")
    await deliver(portal)
    assert await WebhookDelivery.filter(event_id=third.id).count() == 0

    # Fixed and on again: the merchant sends the missed event again.
    receiver.status = 200
    enabled = await portal.gql(
        UPDATE, {"input": {"webhookEndpointId": endpoint_id, "disabled": False}}, token=key
    )
    assert enabled["updateWebhookEndpoint"]["webhookEndpoint"]["failingSince"] is None
    redone = await portal.gql(REDELIVER, {"input": {"eventId": second.id}}, token=key)
    assert redone["redeliverEvent"]["userErrors"] == []
    assert (await deliver(portal)).succeeded == 1
    assert receiver.received[-1].headers["webhook-id"] == second.id
    assert receiver.received[-1].verified


async def test_410_gone_disables_the_endpoint_at_once(
    portal: Portal, acme: NewBusiness, receiver: Receiver, smtp: MailCatcher
) -> None:
    clock.freeze()
    key = acme.test_api_key
    endpoint_id, secret = await create_endpoint(portal, key, receiver.url())
    receiver.secrets = [secret]
    receiver.status = 410
    gone = await emit(acme, "payment.succeeded", payment_id="pay_1")
    assert (await deliver(portal)).attempted == 1
    assert (await delivery_of(gone)).status == WebhookDeliveryStatus.FAILED
    got = await portal.gql(ENDPOINT, {"id": endpoint_id}, token=key)
    assert got["webhookEndpoint"]["disabledReason"] == "GONE"

    await emit(acme, "payment.succeeded", payment_id="pay_2")
    clock.advance(timedelta(days=1))
    assert (await deliver(portal)).attempted == 0
    assert len(receiver.received) == 1
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("support@acme.example")
    assert "410" in str(mail["Subject"])


async def test_a_rotated_secret_signs_alongside_the_new_one_for_a_day(
    portal: Portal, acme: NewBusiness, receiver: Receiver
) -> None:
    clock.freeze()
    key = acme.test_api_key
    endpoint_id, old = await create_endpoint(portal, key, receiver.url())
    rotated = await portal.gql(ROTATE, {"input": {"webhookEndpointId": endpoint_id}}, token=key)
    payload = rotated["rotateWebhookSecret"]
    new = payload["secret"]
    assert payload["userErrors"] == [] and new.startswith("whsec_") and new != old
    assert (
        payload["webhookEndpoint"]["previousSecretExpiresAt"]
        == (clock.now() + timedelta(hours=24)).isoformat()
    )

    receiver.secrets = [new]
    during = await emit(acme, "subscription.renewed", subscription_id="sub_1")
    clock.advance(timedelta(hours=23, minutes=59))
    await deliver(portal)
    [request] = receiver.received
    assert request.headers["webhook-id"] == during.id
    first, second = request.headers["webhook-signature"].split(" ")
    only = {**request.headers}
    Webhook(new).verify(request.body, {**only, "webhook-signature": first})
    Webhook(old).verify(request.body, {**only, "webhook-signature": second})
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, {**only, "webhook-signature": first})
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(request.body, {**only, "webhook-signature": second})
    # A merchant still on the old secret and one already on the new both accept it.
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)

    clock.advance(timedelta(minutes=2))  # past the 24 hours
    after = await emit(acme, "subscription.renewed", subscription_id="sub_2")
    await deliver(portal)
    request = receiver.received[-1]
    assert request.headers["webhook-id"] == after.id and request.verified
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)


async def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    portal: Portal, acme: NewBusiness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", 0.2)  # 15 s in earnest
    _, secret = await create_endpoint(portal, acme.test_api_key, receiver.url())
    receiver.secrets = [secret]
    receiver.answer_after = 0.6
    event = await emit(acme)
    assert (await deliver(portal)).failed == 1
    row = await delivery_of(event)
    assert row.status == WebhookDeliveryStatus.PENDING and row.last_response_status is None
    assert row.last_error and "time" in row.last_error.lower()  # timed out / ReadTimeout
    [attempt] = await WebhookAttempt.filter(event_id=event.id)
    assert attempt.duration_ms is not None and 150 <= attempt.duration_ms < 600


def test_the_merchants_email_speaks_their_language() -> None:
    german = mailers.webhook_endpoint_disabled(
        to="hilfe@globex.example",
        business_name="Globex Inc",
        url="https://globex.example/hooks",
        reason="failing",
        failing_since=None,
        from_addr="Portal <portal@localhost>",
        locale="de",
    )
    assert german.subject == ("Webhook-Endpunkt nach wiederholten Fehlern deaktiviert (Globex Inc)")
    assert german.text.startswith("Guten Tag,") and "https://globex.example/hooks" in german.text
    gone = mailers.webhook_endpoint_disabled(
        to="a@b.example",
        business_name="<Acme>",
        url="https://acme.example/h?a=1&b=2",
        reason="gone",
        failing_since=None,
        from_addr="Portal <portal@localhost>",
        locale="en",
    )
    assert "410 Gone" in gone.subject and "&lt;Acme&gt;" in gone.html
    assert "a=1&amp;b=2" in gone.html


# Addresses


PRIVATE_URLS = [
    "http://127.0.0.1:{port}/hooks",
    "http://10.0.0.1/hooks",
    "http://192.168.1.20/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/hooks",
    "http://[::ffff:127.0.0.1]:{port}/hooks",
    "http://[fd00::1]/hooks",
    "http://0.0.0.0:{port}/hooks",
    "http://localhost:{port}/hooks",
    "http://2130706433:{port}/hooks",  # 127.0.0.1 as one number
]


async def test_private_addresses_are_refused_when_not_allowed(
    portal: Portal, acme: NewBusiness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_only = replace(portal.settings, webhook_allow_private=False)
    http, gql = await make_portal(public_only)
    key = acme.test_api_key
    async with http:
        strict = Portal(public_only, http, gql)
        for template in PRIVATE_URLS:
            url = template.format(port=receiver.port)
            assert await create_errors(strict, key, url=url) == ["INVALID_URL"], url

        # A name that resolves to a private address among public ones is refused too.
        async def resolve(host: str, port: int) -> list[str]:
            return {"rebind.example": ["93.184.216.34", "10.1.2.3"]}.get(host, ["93.184.216.34"])

        monkeypatch.setattr(addresses, "resolve_host", resolve)
        assert await create_errors(strict, key, url="https://rebind.example/hooks") == [
            "INVALID_URL"
        ]
        public_id, _ = await create_endpoint(strict, key, "https://merchant.example/hooks")
        monkeypatch.undo()

    # Production takes https only.
    production = replace(public_only, env="production")
    http, gql = await make_portal(production)
    async with http:
        strict = Portal(production, http, gql)
        assert await create_errors(strict, key, url="http://93.184.216.34/hooks") == ["INVALID_URL"]
    await WebhookEndpoint.filter(id=public_id).delete()

    # Checked again at delivery: an endpoint made while loopback was allowed gets nothing.
    _, secret = await create_endpoint(portal, key, receiver.url())
    receiver.secrets = [secret]
    event = await emit(acme)
    summary = await deliver_due_webhooks(public_only)
    assert summary.attempted == 1 and summary.succeeded == 0
    assert receiver.received == []
    row = await delivery_of(event)
    assert row.last_error == "refused: 127.0.0.1 is not a public address"
    assert row.status == WebhookDeliveryStatus.PENDING  # DNS may change; it is retried


async def test_the_request_goes_to_the_address_that_was_checked(
    portal: Portal, acme: NewBusiness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once per attempt, and the connection goes to the address that was
    checked, with the endpoint's own host in the Host header: no second DNS answer is asked
    for, so none can redirect the request."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(addresses, "resolve_host", resolve)
    key = acme.test_api_key
    url = f"http://hooks.merchant.example:{receiver.port}/in"
    _, secret = await create_endpoint(portal, key, url)  # loopback allowed here
    receiver.secrets = [secret]
    event = await emit(acme)
    assert (await deliver(portal)).succeeded == 1
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.merchant.example:{receiver.port}"
    assert request.path == "/in" and request.verified
    assert request.headers["webhook-id"] == event.id
    assert asked == ["hooks.merchant.example"]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),  # noqa: S104
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.216.34", True),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        # Not globally reachable by IANA's registries, whatever Python's is_global says:
        ("192.0.0.8", False),
        ("192.0.0.9", False),
        ("192.0.2.10", False),
        ("198.18.0.1", False),
        ("198.51.100.7", False),
        ("203.0.113.7", False),
        ("240.0.0.1", False),
        ("192.88.99.1", False),
        ("2001:db8::1", False),
        ("2001:2::1", False),
        ("64:ff9b:1::1", False),
        ("3fff::1", False),
        ("5f00::1", False),
        ("100::1", False),
        ("::ffff:192.0.0.8", False),
        ("64:ff9b::c000:8", False),  # NAT64 of 192.0.0.8
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    import ipaddress

    assert addresses.is_public_address(ipaddress.ip_address(address)) is public


async def test_endpoints_are_capped_per_business_and_mode(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    """One event may not become a flood of requests to hosts of the merchant's choosing: at
    most PORTAL_WEBHOOK_ENDPOINTS_MAX (16) endpoints per business and mode, also when the
    requests come at once."""
    capped = replace(portal.settings, webhook_endpoints_max=3)
    http, gql = await make_portal(capped)
    async with http:
        strict = Portal(capped, http, gql)
        key = acme.test_api_key
        results = await asyncio.gather(
            *(
                strict.gql(CREATE, {"input": {"url": f"https://h{n}.example/hooks"}}, token=key)
                for n in range(8)
            )
        )
        made = [r for r in results if r["createWebhookEndpoint"]["webhookEndpoint"]]
        refused = [
            r["createWebhookEndpoint"]["userErrors"][0]["code"]
            for r in results
            if not r["createWebhookEndpoint"]["webhookEndpoint"]
        ]
        assert len(made) == 3 and refused == ["LIMIT_REACHED"] * 5
        listed = await strict.gql(ENDPOINTS, token=key)
        assert listed["webhookEndpoints"]["totalCount"] == 3
        # Per mode and per business: the live key and another business still have room.
        await create_endpoint(strict, acme.live_api_key, "https://live.example/hooks")
        await create_endpoint(strict, globex.test_api_key, "https://globex.example/hooks")
        # Deleting one makes room again.
        first_id = listed["webhookEndpoints"]["edges"][0]["node"]["id"]
        await strict.gql(DELETE, {"input": {"webhookEndpointId": first_id}}, token=key)
        await create_endpoint(strict, key, "https://again.example/hooks")
    assert portal.settings.webhook_endpoints_max == 16
