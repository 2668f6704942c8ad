"""The jobs' leases on one database, in one process: a named lease is held by one owner until it
runs out; the billing pass runs once per lease across schedulers; and the billing pass sends
again a refund left PENDING by a process that died before it reached the gateway."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from test_refunds import _paid
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from app.jobs import BILLING_LEASE, billing_pass, run_billing_scheduler
from conftest import Portal
from models import Invoice, InvoiceKind, JobLease, Payment, Refund, RefundStatus, WebhookEvent
from models.clock import clock, now
from models.ids import new_id
from services import leases


async def test_a_lease_is_held_by_one_owner_until_it_runs_out(portal: Portal) -> None:
    clock.freeze()
    results = await asyncio.gather(*(leases.claim("job", f"owner-{i}", 10) for i in range(5)))
    assert sum(result is not None for result in results) == 1
    holder = f"owner-{next(i for i, r in enumerate(results) if r is not None)}"
    assert await leases.claim("job", "late", 10) is None
    assert await leases.renew("job", "late", 10) is None  # not the late one's to renew
    assert await leases.renew("job", holder, 10) is not None

    clock.advance(timedelta(seconds=11))  # the holder died: its lease runs out
    assert await leases.claim("job", "late", 10) is not None
    assert await leases.renew("job", holder, 10) is None  # it lost it
    await leases.release("job", holder)  # nothing: not its own any more
    assert (await JobLease.get(name="job")).owner == "late"
    await leases.release("job", "late")
    assert not await JobLease.filter(name="job").exists()

    # A lease left by a worker that died is purged a day after it ran out.
    assert await leases.claim("left", holder, 10) is not None
    clock.advance(timedelta(hours=23))
    assert await leases.purge() == 0
    clock.advance(timedelta(hours=2))
    assert await leases.purge() == 1


async def test_the_billing_pass_runs_once_per_lease_across_schedulers(portal: Portal) -> None:
    stop = asyncio.Event()
    schedulers = [
        asyncio.create_task(run_billing_scheduler(portal.settings, every_seconds=60, stop=stop))
        for _ in range(3)
    ]
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*schedulers)
    [lease] = await JobLease.filter(name=BILLING_LEASE)
    assert lease.claimed_until > now() + timedelta(seconds=50)  # one of them holds the minute


async def test_the_billing_pass_sends_again_a_refund_left_pending(portal: Portal) -> None:
    seller, _, paid = await _paid(portal)
    payment_id = paid["payment"]["id"]
    payment = await Payment.get(id=payment_id)
    # What refundPayment's first step commits before it calls the gateway; then the process died.
    async with in_transaction():
        await Payment.filter(id=payment_id).update(refunded_amount=F("refunded_amount") + 500)
        refund = await Refund.create(
            id=new_id("ref"),
            business_id=payment.business_id,
            mode=payment.mode,
            payment_id=payment_id,
            customer_id=payment.customer_id,
            amount=500,
            currency=payment.currency,
            status=RefundStatus.PENDING,
            created_at=now() - timedelta(minutes=2),
        )

    await billing_pass(portal.settings)
    await billing_pass(portal.settings)  # finds nothing left to do

    await refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.credit_note_id
    notes = await Invoice.filter(kind=InvoiceKind.CREDIT_NOTE, business_id=seller.business.id)
    assert [note.id for note in notes] == [refund.credit_note_id]
    assert (await Payment.get(id=payment_id)).refunded_amount == 500
    assert await WebhookEvent.filter(type="refund.succeeded").count() == 1
