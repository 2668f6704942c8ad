"""Many processes against one database: `portal worker` processes share the jobs (each done once,
a killed worker's jobs taken over), mail leaves over several SMTP sessions in order per
recipient, `portal serve` runs without jobs and shares its rate limits through Redis, and SIGTERM
lets requests and jobs under way finish."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from conftest import Portal
from mailers import EmailMessage
from models import Mode, OutboxKind, OutboxMessage, OutboxStatus
from models.webhooks import WebhookDelivery, WebhookDeliveryStatus
from services import outbox
from services.businesses import NewBusiness
from services.events import record_event
from support import CREATE_CUSTOMER, MailCatcher
from tests.process.processes import PortalProcess, run_portal, start_portal, start_server

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class SlowMailCatcher(MailCatcher):
    """The SMTP fixture, slowed down and gated: each message's DATA takes `delay` seconds, and
    after `let_through` messages every further one waits at RCPT until `gate` opens (a worker
    killed meanwhile has sent nothing of it)."""

    delay: float = 0.0
    let_through: int | None = None
    gate: asyncio.Event | None = None
    started: int = 0
    held: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.started += 1
        if self.let_through is not None and self.started > self.let_through:
            if self.gate is None:
                self.gate = asyncio.Event()  # in the server's own loop
            self.held += 1
            try:
                await self.gate.wait()
            finally:
                self.held -= 1
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        began = time.monotonic()
        try:
            await asyncio.sleep(self.delay)
            return await super().handle_DATA(server, session, envelope)
        finally:
            self.in_flight -= 1
            self.spans.append((began, time.monotonic()))

    def open_gate(self) -> None:
        self.let_through = None
        if self.gate is not None and self.controller is not None:
            self.controller.loop.call_soon_threadsafe(self.gate.set)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@pytest.fixture
def smtp() -> Iterator[SlowMailCatcher]:
    catcher = SlowMailCatcher()
    catcher.start()
    yield catcher
    catcher.open_gate()
    catcher.stop()


@dataclass
class GatedReceiver:
    """A webhook receiver on 127.0.0.1 that takes an event when it answers it: after
    `let_through` requests it holds the others until `gate` opens, and a request whose sender
    has gone by then (killed) is abandoned, not taken."""

    let_through: int | None = None
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    taken: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    held: int = 0
    seen: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            headers = {}
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            await reader.readexactly(int(headers.get("content-length", "0")))
            webhook_id = headers["webhook-id"]
            self.seen += 1
            if self.let_through is not None and self.seen > self.let_through:
                self.held += 1
                await self.gate.wait()
                self.held -= 1
                await asyncio.sleep(0.05)  # let a dead sender's end of stream arrive
                if reader.at_eof() or writer.is_closing():
                    self.abandoned.append(webhook_id)
                    return
            self.taken.append(webhook_id)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.gate.set()
            self.server.close()


@pytest.fixture
async def receiver() -> AsyncIterator[GatedReceiver]:
    found = GatedReceiver()
    await found.start()
    yield found
    await found.stop()


def worker_env(portal: Portal, smtp: MailCatcher, **extra: str) -> dict[str, str]:
    return {
        "PORTAL_DATABASE_URL": portal.settings.database_url,
        "PORTAL_SECRET_KEY": portal.settings.secret_key,
        "PORTAL_PUBLIC_URL": portal.settings.public_url,
        "PORTAL_SMTP_URL": smtp.url,
        "PORTAL_JOB_POLL_SECONDS": "0.2",
        **extra,
    }


@contextlib.contextmanager
def processes() -> Iterator[list[PortalProcess]]:
    started: list[PortalProcess] = []
    try:
        yield started
    finally:
        for process in started:
            process.stop()


async def until(
    condition: Callable[[], Awaitable[bool] | bool],
    seconds: float,
    what: str,
    logs: list[PortalProcess] = (),  # type: ignore[assignment]
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"not within {seconds} s: {what}\n" + "\n".join(p.log_text() for p in logs)
    )


async def enqueue_mails(portal: Portal, recipients: list[str], rounds: int) -> list[str]:
    """`rounds` mails to each recipient, written in order (subject "<recipient> #<n>")."""
    subjects = []
    for number in range(1, rounds + 1):
        for recipient in recipients:
            subject = f"{recipient} #{number}"
            async with in_transaction():
                await outbox.enqueue_email(
                    portal.settings.secret_key,
                    EmailMessage(
                        to=recipient,
                        subject=subject,
                        text="hello",
                        html="<p>hello</p>",
                        from_addr="portal@example.com",
                    ),
                    topic="test",
                    business_id=None,
                    mode=None,
                )
            subjects.append(subject)
    return subjects


def assert_in_order_per_recipient(subjects: list[str]) -> None:
    numbers: dict[str, list[int]] = {}
    for subject in subjects:
        recipient, _, number = subject.partition(" #")
        numbers.setdefault(recipient, []).append(int(number))
    for recipient, received in numbers.items():
        assert received == sorted(received), (recipient, received)


async def sent_mails() -> int:
    return await OutboxMessage.filter(kind=OutboxKind.EMAIL, status=OutboxStatus.SENT).count()


async def delivered_webhooks() -> int:
    return await WebhookDelivery.filter(status=WebhookDeliveryStatus.SUCCEEDED).count()


async def test_two_workers_and_a_killed_one_do_every_job_once(
    portal: Portal, acme: NewBusiness, smtp: SlowMailCatcher, receiver: GatedReceiver
) -> None:
    recipients = [f"r{i}@example.com" for i in range(20)]
    subjects = await enqueue_mails(portal, recipients, rounds=2)
    data = await portal.gql(
        "mutation($i: CreateWebhookEndpointInput!) "
        "{ createWebhookEndpoint(input: $i) { userErrors { code } } }",
        {"i": {"url": receiver.url}},
        token=acme.test_api_key,
    )
    assert data["createWebhookEndpoint"]["userErrors"] == []
    event_ids = []
    for number in range(30):
        async with in_transaction():
            event = await record_event(
                acme.business.id, Mode.TEST, "customer.created", {"n": number}
            )
        event_ids.append(event.id)

    # The first worker takes work, delivers some of it, and is killed with more in flight.
    smtp.let_through = 10
    receiver.let_through = 10
    env = worker_env(portal, smtp, PORTAL_JOB_LEASE_SECONDS="2", PORTAL_SMTP_CONCURRENCY="4")
    with processes() as running:
        first = start_portal(portal.settings.var_dir.parent, "worker-killed", "worker", **env)
        running.append(first)
        await until(lambda: smtp.held == 4 and receiver.held >= 5, 30, "work in flight", running)

        # Everything answered is recorded before the kill: what follows is in flight only.
        async def recorded() -> bool:
            return await sent_mails() == len(smtp.messages) and await delivered_webhooks() == len(
                receiver.taken
            )

        await until(recorded, 10, "answered work recorded", running)
        first.signal(signal.SIGKILL)
        first.wait()
        smtp.open_gate()
        receiver.gate.set()

        # Two workers take over once the dead one's leases run out, and finish everything.
        for name in ("worker-a", "worker-b"):
            running.append(start_portal(portal.settings.var_dir.parent, name, "worker", **env))

        async def all_done() -> bool:
            return await sent_mails() == len(subjects) and await delivered_webhooks() == len(
                event_ids
            )

        await until(all_done, 30, "all mails and webhooks delivered", running)
        for worker in running[1:]:
            worker.signal(signal.SIGTERM)
        for worker in running[1:]:
            assert worker.wait() == 0, worker.log_text()

    assert smtp.held == 0 and receiver.abandoned  # the killed worker had work in flight
    assert Counter(smtp.subjects()) == Counter(subjects)  # every mail once
    assert_in_order_per_recipient(smtp.subjects())
    assert Counter(receiver.taken) == Counter(event_ids)  # every webhook once
    assert not await OutboxMessage.filter(status=OutboxStatus.PENDING).exists()


async def test_mail_goes_out_over_several_smtp_sessions_in_order_per_recipient(
    portal: Portal, smtp: SlowMailCatcher
) -> None:
    smtp.delay = 0.4
    recipients = [f"c{i}@example.com" for i in range(8)]
    subjects = await enqueue_mails(portal, recipients, rounds=2)  # 16 mails, default 4 sessions
    with processes() as running:
        worker = start_portal(
            portal.settings.var_dir.parent, "worker", "worker", **worker_env(portal, smtp)
        )
        running.append(worker)
        await until(lambda: len(smtp.messages) == len(subjects), 30, "all sent", running)
    took = max(end for _, end in smtp.spans) - min(start for start, _ in smtp.spans)
    # 16 mails of 0.4 s each over 4 sessions: about 1.6 s (one session would take 6.4 s).
    assert smtp.most_in_flight == 4
    assert 1.5 < took < 3.2, took
    assert Counter(smtp.subjects()) == Counter(subjects)
    assert_in_order_per_recipient(smtp.subjects())


async def test_sigterm_lets_a_job_under_way_finish(portal: Portal, smtp: SlowMailCatcher) -> None:
    smtp.delay = 1.0
    [subject] = await enqueue_mails(portal, ["slow@example.com"], rounds=1)
    with processes() as running:
        worker = start_portal(
            portal.settings.var_dir.parent, "worker", "worker", **worker_env(portal, smtp)
        )
        running.append(worker)
        await until(lambda: smtp.in_flight == 1, 30, "the mail under way", running)
        worker.signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait) == 0, worker.log_text()
    assert smtp.subjects() == [subject]
    assert await sent_mails() == 1  # recorded, so no other worker sends it again


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


async def test_web_processes_without_jobs_share_rate_limits_through_redis(
    portal: Portal, acme: NewBusiness, smtp: SlowMailCatcher
) -> None:
    if not redis_reachable():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Redis at 127.0.0.1:6379 is needed")
        pytest.skip("Redis at 127.0.0.1:6379 is unreachable")
    email = f"limited-{uuid.uuid4().hex[:12]}@example.com"
    data = await portal.gql(
        CREATE_CUSTOMER, {"input": {"email": email, "name": "L"}}, token=acme.test_api_key
    )
    assert data["createCustomer"]["userErrors"] == []
    env = worker_env(
        portal,
        smtp,
        PORTAL_REDIS_URL=REDIS_URL,
        PORTAL_RATE_LIMIT_LOGIN_EMAIL="3/hour",
        PORTAL_RATE_LIMIT_LOGIN_IP="100000/minute",
    )
    request = (
        "mutation($i: RequestLoginLinkInput!) "
        "{ requestLoginLink(input: $i) { userErrors { code } } }"
    )
    variables = {"i": {"businessId": acme.business.id, "email": email, "mode": "TEST"}}
    with processes() as running:
        tmp = portal.settings.var_dir.parent
        one, two = await asyncio.gather(
            asyncio.to_thread(start_server, tmp, "web-1", "--no-jobs", **env),
            asyncio.to_thread(start_server, tmp, "web-2", "--no-jobs", **env),
        )
        running += [one, two]
        codes = []
        async with httpx.AsyncClient(timeout=10) as http:
            for server in (one, two, one, two, one):
                response = await http.post(
                    f"{server.url}/graphql", json={"query": request, "variables": variables}
                )
                answer = response.json()
                if answer.get("errors"):  # refused as a whole: a rate limit is not a user error
                    codes.append(answer["errors"][0]["extensions"]["code"])
                else:
                    errors = answer["data"]["requestLoginLink"]["userErrors"]
                    codes.append(errors[0]["code"] if errors else "OK")
        # Three in all, whichever process answered.
        assert codes == ["OK", "OK", "OK", "RATE_LIMITED", "RATE_LIMITED"]

        # The web processes run no jobs: the sign-in links wait for a worker.
        await asyncio.sleep(0.6)
        assert smtp.messages == []
        running.append(start_portal(tmp, "worker", "worker", **env))
        await until(lambda: len(smtp.to(email)) == 3, 30, "the three sign-in mails", running)


async def test_several_http_processes_and_sigterm_lets_a_request_under_way_finish(
    portal: Portal, smtp: SlowMailCatcher
) -> None:
    """`serve --workers 2` answers from two processes; on SIGTERM a client still uploading its
    request gets its answer before the server stops."""
    env = worker_env(portal, smtp, PORTAL_REDIS_URL=REDIS_URL)
    with processes() as running:
        server = await asyncio.to_thread(
            start_server, portal.settings.var_dir.parent, "web", "--workers", "2", **env
        )
        running.append(server)
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(4):
                response = await http.post(
                    f"{server.url}/graphql", json={"query": "{ __typename }"}
                )
                assert response.json() == {"data": {"__typename": "Query"}}
        await until(
            lambda: server.log_text().count("Application startup complete") == 2,
            30,
            "two HTTP worker processes",
            running,
        )
        assert server.url is not None
        port = int(server.url.rsplit(":", 1)[1])
        body = b'{"query": "{ __typename }"}'
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[:10]
            )
            await asyncio.sleep(0.3)  # the request is under way
            server.signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            assert server.process.poll() is None  # still finishing the request
            sock.sendall(body[10:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert b'"__typename":"Query"' in answer.replace(b" ", b"")
        assert await asyncio.to_thread(server.wait) == 0, server.log_text()
        assert server.log_text().count("Application shutdown complete") == 2


def test_several_web_processes_in_production_need_redis(tmp_path: Path) -> None:
    production = {
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "k" * 40,
        "PORTAL_PUBLIC_URL": "https://portal.example.com",
        "PORTAL_SMTP_URL": "smtp://127.0.0.1:2525",
    }
    refused = run_portal(tmp_path, "serve", "--workers", "2", **production)
    assert refused.returncode == 2
    assert "several processes need PORTAL_REDIS_URL" in refused.stderr
    assert run_portal(tmp_path, "serve", "--workers", "0").returncode == 2
