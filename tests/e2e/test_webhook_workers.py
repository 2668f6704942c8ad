"""Several workers share the webhook work: each event is fanned out once, each delivery is
attempted by one worker at a time, and a delivery claimed by a worker that died is picked up
once its claim runs out. On PostgreSQL the second worker is also a separate process."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_webhooks import Receiver, create_endpoint, emit

from conftest import Portal
from models import OutboxKind, OutboxMessage, OutboxStatus
from models.clock import clock
from models.webhooks import WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus
from services.businesses import NewBusiness
from services.webhooks.delivery import (
    CLAIM_SECONDS,
    PassSummary,
    claim_due_deliveries,
    deliver_due_webhooks,
)
from services.webhooks.fan_out import fan_out_events

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    yield found
    await found.stop()


async def work_until_idle(portal: Portal, batch: int) -> int:
    """A worker that keeps making passes while it finds something to do."""
    attempted = 0
    while True:
        summary: PassSummary = await deliver_due_webhooks(portal.settings, batch=batch)
        attempted += summary.attempted
        if not (summary.attempted or summary.fanned_out):
            return attempted


async def assert_each_delivered_once(
    receiver: Receiver, expected: Counter[tuple[str, str]]
) -> None:
    got = Counter((r.path, r.headers["webhook-id"]) for r in receiver.received)
    assert got == expected
    assert all(r.verified for r in receiver.received)
    assert receiver.overlapping == []
    total = sum(expected.values())
    assert await WebhookAttempt.all().count() == total
    rows = await WebhookDelivery.all()
    assert len(rows) == total
    assert {(row.status, row.attempts) for row in rows} == {(WebhookDeliveryStatus.SUCCEEDED, 1)}
    assert not await OutboxMessage.filter(
        kind=OutboxKind.WEBHOOK, status=OutboxStatus.PENDING
    ).exists()


async def test_two_workers_at_once_deliver_each_event_exactly_once(
    portal: Portal, acme: NewBusiness, receiver: Receiver
) -> None:
    key = acme.test_api_key
    _, first = await create_endpoint(portal, key, receiver.url("/a"))
    _, second = await create_endpoint(portal, key, receiver.url("/b"))
    receiver.secrets = [first, second]
    receiver.answer_after = 0.01
    events = [await emit(acme, "payment.succeeded", payment_id=f"pay_{i}") for i in range(20)]

    one, two = await asyncio.gather(work_until_idle(portal, 3), work_until_idle(portal, 3))
    assert one + two == 40
    assert one > 0 and two > 0  # they shared the work
    await assert_each_delivered_once(
        receiver, Counter((path, e.id) for e in events for path in ("/a", "/b"))
    )


WORKER_PROCESS = """
import asyncio, json, sys
from tortoise import Tortoise
from app.db import tortoise_config
from app.settings import Settings
from services.webhooks.delivery import deliver_due_webhooks

async def main(url: str, secret_key: str) -> None:
    await Tortoise.init(config=tortoise_config(url))
    settings = Settings(
        database_url=url, public_url="http://portal.test", secret_key=secret_key,
        run_workers=False,
    )
    print("ready", flush=True)
    sys.stdin.readline()  # go
    attempted = 0
    try:
        while True:
            summary = await deliver_due_webhooks(settings, batch=3)
            attempted += summary.attempted
            if not (summary.attempted or summary.fanned_out):
                break
    finally:
        await Tortoise.close_connections()
    print(json.dumps({"attempted": attempted}), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_a_second_process_shares_the_work_on_postgres(
    portal: Portal, acme: NewBusiness, receiver: Receiver, database_url: str
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("several processes share one database on PostgreSQL")
    key = acme.test_api_key
    _, secret = await create_endpoint(portal, key, receiver.url())
    receiver.secrets = [secret]
    receiver.answer_after = 0.02
    events = [await emit(acme, "subscription.renewed", subscription_id=f"s{i}") for i in range(30)]

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER_PROCESS,
        database_url,
        portal.settings.secret_key,
        cwd=PROJECT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"ready"
        process.stdin.write(b"go\n")
        await process.stdin.drain()
        here = await work_until_idle(portal, 3)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    there = json.loads(out.decode().strip().splitlines()[-1])["attempted"]
    assert here + there == 30
    assert here > 0 and there > 0
    await assert_each_delivered_once(receiver, Counter(("/hooks", e.id) for e in events))


async def test_a_claim_of_a_worker_that_died_runs_out_and_nothing_is_skipped(
    portal: Portal, acme: NewBusiness, receiver: Receiver
) -> None:
    clock.freeze()
    _, secret = await create_endpoint(portal, acme.test_api_key, receiver.url())
    receiver.secrets = [secret]
    event = await emit(acme)
    assert await fan_out_events() == 1

    # A worker claims the delivery and dies before its request.
    _, claimed = await claim_due_deliveries(clock.now())
    assert [row.event_id for row in claimed] == [event.id]  # type: ignore[attr-defined]
    assert (await deliver_due_webhooks(portal.settings)).attempted == 0  # not twice at once
    clock.advance(timedelta(seconds=CLAIM_SECONDS - 1))
    assert (await deliver_due_webhooks(portal.settings)).attempted == 0

    clock.advance(timedelta(seconds=2))
    assert (await deliver_due_webhooks(portal.settings)).succeeded == 1
    assert [r.headers["webhook-id"] for r in receiver.received] == [event.id]
