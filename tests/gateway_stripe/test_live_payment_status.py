"""`paymentUpdated` seen by a real websocket client (graphql-transport-ws) on real `portal serve`
processes: the payment waits for 3-D Secure (localstripe), the customer authenticates, and
confirmPayment settles it on one server while the client listens on another. Across processes
through PostgreSQL's LISTEN/NOTIFY, through Redis (two processes on one SQLite file, which
have nothing else in common), and in-process on a single SQLite server. Another business's
key, another customer's session and an unknown id are all refused alike."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import Portal, Templates
from services.businesses import NewBusiness
from support import GraphQLClient, create_customer, create_product, session_for
from tests.process.processes import RunningServer, run_portal, running_server

from .conftest import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    THREE_DS,
    WEBHOOK_SECRET,
    LocalStripe,
    StripeLab,
)

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"
PUBLIC_URL = "http://portal.test"

PAYMENT_UPDATED = """
subscription($id: ID!) {
  paymentUpdated(paymentId: $id) { id status failureCode amount { amount } invoice { status } }
}"""

CONFIGURE = """
mutation($input: ConfigurePaymentGatewayInput!) {
  configurePaymentGateway(input: $input) { userErrors { code } }
}"""

CREATE_PAYMENT = """
mutation($input: CreatePaymentInput!) {
  createPayment(input: $input) {
    payment { id status }
    nextAction { clientSecret }
    userErrors { code message }
  }
}"""

CONFIRM_PAYMENT = """
mutation($input: ConfirmPaymentInput!) {
  confirmPayment(input: $input) { payment { id status } userErrors { code } }
}"""


class LiveSocket:
    """A graphql-transport-ws client, as a frontend's graphql-ws library speaks it."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.next_id = 0

    async def receive(self, seconds: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(seconds):
            while True:
                message = json.loads(await self.connection.recv())
                if message["type"] == "ping":
                    await self.connection.send(json.dumps({"type": "pong"}))
                    continue
                return dict(message)

    async def subscribe(self, query: str, variables: dict[str, Any]) -> str:
        self.next_id += 1
        operation = str(self.next_id)
        await self.connection.send(
            json.dumps(
                {
                    "id": operation,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        return operation


@asynccontextmanager
async def live_socket(
    server: RunningServer | str, token: str | None, headers: dict[str, str] | None = None
) -> AsyncIterator[LiveSocket]:
    base = server if isinstance(server, str) else server.url
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(
        url, subprotocols=["graphql-transport-ws"], additional_headers=headers or {}
    ) as connection:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        socket = LiveSocket(connection)
        assert (await socket.receive())["type"] == "connection_ack"
        yield socket


async def statuses_until_complete(socket: LiveSocket, operation: str) -> list[str]:
    seen = []
    while True:
        message = await socket.receive()
        assert message["id"] == operation, message
        if message["type"] == "complete":
            return seen
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        seen.append(message["payload"]["data"]["paymentUpdated"]["status"])


@dataclass
class Shop:
    business_id: str
    key: str
    gql: GraphQLClient


@contextmanager
def servers(tmp_path: Path, count: int, **env: str) -> Iterator[list[RunningServer]]:
    shared = {"PORTAL_SECRET_KEY": "live-" + "x" * 40, "PORTAL_PUBLIC_URL": PUBLIC_URL, **env}
    with ExitStack() as stack:
        yield [stack.enter_context(running_server(tmp_path, **shared)) for _ in range(count)]


def new_business(server: RunningServer, name: str, **env: str) -> tuple[str, str]:
    made = run_portal(
        server.tmp_path,
        "create-business",
        name,
        "--support-email",
        "help@example.com",
        "--json",
        **env,
    )
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    return created["business_id"], created["test_api_key"]


async def stripe_shop(
    http: httpx.AsyncClient, server: RunningServer, name: str, **env: str
) -> Shop:
    business_id, key = new_business(server, name, **env)
    gql = GraphQLClient(http)
    data = await gql(
        CONFIGURE,
        {
            "input": {
                "provider": "STRIPE",
                "secretKey": SECRET_KEY,
                "publishableKey": PUBLISHABLE_KEY,
                "webhookSecret": WEBHOOK_SECRET,
            }
        },
        token=key,
    )
    assert data["configurePaymentGateway"]["userErrors"] == []
    return Shop(business_id, key, gql)


async def waiting_payment(shop: Shop, stripe_lab: StripeLab, customer_id: str) -> dict[str, Any]:
    """A one-time purchase whose card wants 3-D Secure: REQUIRES_ACTION until confirmed."""
    product_id = await create_product(shop.gql, shop.key, amount=4900, interval=None)
    data = await shop.gql(
        CREATE_PAYMENT,
        {
            "input": {
                "customerId": customer_id,
                "productId": product_id,
                "gatewayPaymentMethodId": await stripe_lab.payment_method(THREE_DS),
            }
        },
        token=shop.key,
    )
    started = data["createPayment"]
    assert started["payment"]["status"] == "REQUIRES_ACTION", started
    return dict(started)


async def confirm(shop: Shop, payment_id: str) -> str:
    data = await shop.gql(CONFIRM_PAYMENT, {"input": {"paymentId": payment_id}}, token=shop.key)
    return str(data["confirmPayment"]["payment"]["status"])


def sqlite_database(templates: Templates, tmp_path: Path) -> str:
    """A copy of the migrated template: `portal migrate` then finds nothing to do."""
    shutil.copyfile(templates.sqlite_file, tmp_path / "portal.sqlite3")
    return f"sqlite://{tmp_path}/portal.sqlite3"


@asynccontextmanager
async def postgres_database(templates: Templates) -> AsyncIterator[str]:
    if templates.postgres_db is None:
        pytest.skip(templates.postgres_error or "PostgreSQL is not among the test databases")
    name = f"portal_live_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{templates.postgres_db}"')
    finally:
        await admin.close()
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _changed_on_one_seen_on_other(
    changing: RunningServer, listening: RunningServer, stripe_lab: StripeLab, **env: str
) -> None:
    async with httpx.AsyncClient(base_url=changing.url, timeout=30) as http:
        shop = await stripe_shop(http, changing, "Acme", **env)
        customer_id = await create_customer(shop.gql, shop.key, "ann@example.com")
        session = await session_for(shop.gql, shop.key, customer_id)
        started = await waiting_payment(shop, stripe_lab, customer_id)
        payment_id = started["payment"]["id"]

        # The merchant's dashboard and the customer's portal both follow it on the other
        # server: the payment as it is first.
        async with (
            live_socket(listening, shop.key) as merchant,
            live_socket(listening, session) as customer,
        ):
            followed = []
            for socket in (merchant, customer):
                operation = await socket.subscribe(PAYMENT_UPDATED, {"id": payment_id})
                first = await socket.receive()
                assert first["type"] == "next", first
                now = first["payload"]["data"]["paymentUpdated"]
                assert now == {
                    "id": payment_id,
                    "status": "REQUIRES_ACTION",
                    "failureCode": None,
                    "amount": {"amount": 4900},
                    "invoice": {"status": "OPEN"},
                }
                followed.append((socket, operation))

            # The customer authenticates; the first server settles the payment.
            await stripe_lab.authenticate(started["nextAction"]["clientSecret"])
            assert await confirm(shop, payment_id) == "SUCCEEDED"

            for socket, operation in followed:
                message = await socket.receive()
                assert message["type"] == "next", message
                assert message["payload"]["data"]["paymentUpdated"]["status"] == "SUCCEEDED"
                assert message["payload"]["data"]["paymentUpdated"]["invoice"] == {"status": "PAID"}
                assert await socket.receive() == {"id": operation, "type": "complete"}

        # Followed once it is final: sent once, then complete.
        async with live_socket(changing, session) as socket:
            operation = await socket.subscribe(PAYMENT_UPDATED, {"id": payment_id})
            assert await statuses_until_complete(socket, operation) == ["SUCCEEDED"]


async def test_a_change_on_one_postgresql_server_reaches_a_client_of_another(
    tmp_path: Path, templates: Templates, localstripe: LocalStripe, stripe_lab: StripeLab
) -> None:
    async with postgres_database(templates) as database_url:
        env = {"PORTAL_DATABASE_URL": database_url, "PORTAL_STRIPE_API_BASE": localstripe.url}
        with servers(tmp_path, 2, **env) as (changing, listening):
            await _changed_on_one_seen_on_other(changing, listening, stripe_lab, **env)


async def test_redis_carries_the_change_between_two_servers(
    tmp_path: Path, templates: Templates, localstripe: LocalStripe, stripe_lab: StripeLab
) -> None:
    # Two processes on one SQLite file: only Redis can tell the second of the first's change.
    env = {
        "PORTAL_DATABASE_URL": sqlite_database(templates, tmp_path),
        "PORTAL_STRIPE_API_BASE": localstripe.url,
        "PORTAL_REDIS_URL": REDIS_URL,
    }
    with servers(tmp_path, 2, **env) as (changing, listening):
        await _changed_on_one_seen_on_other(changing, listening, stripe_lab, **env)


async def test_a_single_sqlite_server_tells_its_own_clients(
    tmp_path: Path, templates: Templates, localstripe: LocalStripe, stripe_lab: StripeLab
) -> None:
    env = {
        "PORTAL_DATABASE_URL": sqlite_database(templates, tmp_path),
        "PORTAL_STRIPE_API_BASE": localstripe.url,
    }
    with servers(tmp_path, 1, **env) as (server,):
        await _changed_on_one_seen_on_other(server, server, stripe_lab, **env)

        await _refused_alike(server, stripe_lab, **env)


def _refusal(message: dict[str, Any], operation: str) -> dict[str, Any]:
    """What a refused subscription answers: one error, no data, nothing else."""
    assert message["id"] == operation, message
    if message["type"] == "error":
        (error,) = message["payload"]
    else:
        assert message["type"] == "next", message
        assert message["payload"].get("data") is None, message
        (error,) = message["payload"]["errors"]
    return {"message": error["message"], "code": error["extensions"]["code"]}


async def _refused_alike(server: RunningServer, stripe_lab: StripeLab, **env: str) -> None:
    """Another business's key, another customer's session and an unknown id get the same
    NOT_FOUND; no credential is UNAUTHENTICATED; a wrong one closes the connection (4403)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        acme = await stripe_shop(http, server, "Acme", **env)
        _, globex_key = new_business(server, "Globex", **env)
        ann = await create_customer(acme.gql, acme.key, "ann@example.com")
        bob = await create_customer(acme.gql, acme.key, "bob@example.com")
        bobs_session = await session_for(acme.gql, acme.key, bob)
        payment_id = (await waiting_payment(acme, stripe_lab, ann))["payment"]["id"]

        refusals = []
        for token, wanted in (
            (globex_key, payment_id),  # another business's key
            (bobs_session, payment_id),  # another customer's session
            (acme.key, "pay_doesnotexist000000"),  # an id that does not exist
        ):
            async with live_socket(server, token) as socket:
                operation = await socket.subscribe(PAYMENT_UPDATED, {"id": wanted})
                refusals.append(_refusal(await socket.receive(), operation))
                assert await socket.receive() == {"id": operation, "type": "complete"}
        assert refusals == [{"message": "No such payment.", "code": "NOT_FOUND"}] * 3

        # Each operation over its own transport, and the websocket keeps the query limits.
        over_http = await acme.gql.error(PAYMENT_UPDATED, {"id": payment_id}, token=acme.key)
        assert over_http["extensions"]["code"] == "BAD_USER_INPUT"
        assert "websocket" in over_http["message"]
        async with live_socket(server, acme.key) as socket:
            operation = await socket.subscribe("{ business { id } }", {})
            refused = _refusal(await socket.receive(), operation)
            assert refused["code"] == "BAD_USER_INPUT"
            assert "over HTTP" in refused["message"]
            assert await socket.receive() == {"id": operation, "type": "complete"}
            deep = "creditNoteFor { " * 10 + "id" + " }" * 10
            too_deep = (
                "subscription($id: ID!) { paymentUpdated(paymentId: $id) { invoice { %s } } }"
            )
            operation = await socket.subscribe(too_deep % deep, {"id": payment_id})
            refused_deep = await socket.receive()
            assert refused_deep["type"] == "error", refused_deep
            assert [e["extensions"]["code"] for e in refused_deep["payload"]] == [
                "QUERY_TOO_COMPLEX"
            ], refused_deep

            # A document that does not validate: its errors, each with a code.
            operation = await socket.subscribe(
                "subscription($id: ID!) { paymentUpdated(paymentId: $id) { nonsense } }",
                {"id": payment_id},
            )
            invalid = await socket.receive()
            assert invalid["type"] == "error", invalid
            assert [e["extensions"]["code"] for e in invalid["payload"]] == ["BAD_USER_INPUT"]

            # The cost limit holds too: one event of this could be a million fields.
            costly = "creditNotes { " * 5 + "lines { description }" + " }" * 5
            operation = await socket.subscribe(too_deep % costly, {"id": payment_id})
            assert _refusal(await socket.receive(), operation)["code"] == "QUERY_TOO_COMPLEX"

        # No credential: UNAUTHENTICATED; a wrong one closes the connection (4403).
        async with live_socket(server, None) as socket:
            operation = await socket.subscribe(PAYMENT_UPDATED, {"id": payment_id})
            assert _refusal(await socket.receive(), operation)["code"] == "UNAUTHENTICATED"
        url = server.url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
            await connection.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": "Bearer sk_test_wrong"},
                    }
                )
            )
            with pytest.raises(ConnectionClosed) as closed:
                await connection.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403


async def test_stripe_s_webhook_and_a_failed_authentication_are_pushed_as_they_happen(
    stripe_portal: tuple[Portal, str], shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    """In one process, on SQLite and on PostgreSQL (LISTEN/NOTIFY through the app's own
    connection): the change comes from Stripe's webhook, which nobody waits for, and from
    confirmPayment after the customer failed 3-D Secure."""
    portal, acme = shop
    _, url = stripe_portal
    gql_shop = Shop(acme.business.id, acme.test_api_key, portal.gql)
    customer_id = await create_customer(portal.gql, acme.test_api_key, "dee@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)

    paid = await waiting_payment(gql_shop, stripe_lab, customer_id)
    async with live_socket(url, session) as socket:
        operation = await socket.subscribe(PAYMENT_UPDATED, {"id": paid["payment"]["id"]})
        assert (await socket.receive())["payload"]["data"]["paymentUpdated"]["status"] == (
            "REQUIRES_ACTION"
        )
        # localstripe sends payment_intent.succeeded to our webhook a second later.
        await stripe_lab.authenticate(paid["nextAction"]["clientSecret"])
        assert await statuses_until_complete(socket, operation) == ["SUCCEEDED"]

    # The hosted pages' way in: the portal_session cookie of the upgrade (or its Authorization
    # header), from the portal's own origin; another site's page cannot use the cookie.
    waiting = await waiting_payment(gql_shop, stripe_lab, customer_id)
    cookie = {"Cookie": f"portal_session={session}"}
    for headers in (cookie, {"Authorization": f"Bearer {session}"}):
        async with live_socket(url, None, headers) as socket:
            operation = await socket.subscribe(PAYMENT_UPDATED, {"id": waiting["payment"]["id"]})
            now = (await socket.receive())["payload"]["data"]["paymentUpdated"]
            assert now["status"] == "REQUIRES_ACTION"
    ws_url = url.replace("http://", "ws://") + "/graphql"
    with pytest.raises(InvalidStatus):
        async with connect(
            ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin="http://elsewhere.example",  # type: ignore[arg-type]
            additional_headers=cookie,
        ):
            pass
    # Only graphql-transport-ws is spoken (not the deprecated subscriptions-transport-ws).
    async with connect(ws_url, subprotocols=["graphql-ws"]) as legacy:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await legacy.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4406
    # The same business's live key sees none of its test payments.
    async with live_socket(url, acme.live_api_key) as socket:
        operation = await socket.subscribe(PAYMENT_UPDATED, {"id": waiting["payment"]["id"]})
        assert _refusal(await socket.receive(), operation)["code"] == "NOT_FOUND"

    failed = await waiting_payment(gql_shop, stripe_lab, customer_id)
    async with live_socket(url, acme.test_api_key) as socket:
        operation = await socket.subscribe(PAYMENT_UPDATED, {"id": failed["payment"]["id"]})
        first = (await socket.receive())["payload"]["data"]["paymentUpdated"]
        assert first["status"] == "REQUIRES_ACTION"
        await stripe_lab.authenticate(failed["nextAction"]["clientSecret"], success=False)
        assert await confirm(gql_shop, failed["payment"]["id"]) == "FAILED"
        message = await socket.receive()
        assert message["payload"]["data"]["paymentUpdated"]["status"] == "FAILED"
        assert message["payload"]["data"]["paymentUpdated"]["failureCode"]
        assert await socket.receive() == {"id": operation, "type": "complete"}
