"""The jobs a portal runs besides answering requests: the outbox (emails and after-commit tasks),
webhook deliveries, and the billing pass (settling stale payments and pending refunds, renewing
what is due). `portal serve` runs them in its own process unless told not to; `portal worker`
runs only them. Any number of processes may run them against one database: every piece of work
is leased to one worker at a time (services/leases.py, services/outbox.py,
services/webhooks/delivery.py), and a crashed worker's leases run out and are taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

import mailers
from services import leases, outbox
from services.billing.refunds import settle_pending_refunds
from services.billing.renewals import renew_due_subscriptions
from services.billing.settlement import settle_stale_payments
from services.settings import Settings
from services.tasks import task_handlers
from services.webhooks import delivery as webhook_delivery

logger = logging.getLogger("portal.jobs")

BILLING_LEASE = "billing-pass"
BILLING_EVERY_SECONDS = 60.0


def mail_transport(settings: Settings) -> mailers.MailTransport:
    return mailers.transport_from_url(settings.smtp_url, settings.outbox_dir)


def message_id_domain(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or "localhost"


async def run_outbox_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    await outbox.run_worker(
        secret_key=settings.secret_key,
        tasks=task_handlers(settings),
        mail=mail_transport(settings),
        message_id_domain=message_id_domain(settings),
        poll_seconds=settings.job_poll_seconds,
        concurrency=settings.smtp_concurrency,
        lease_seconds=settings.job_lease_seconds,
        stop=stop,
    )


async def billing_pass(settings: Settings) -> None:
    """Settles payments left PROCESSING and refunds left PENDING, then renews what is due. Each
    step claims each row with a conditional update, so a pass that overlaps another changes
    nothing twice."""
    steps: list[tuple[str, Any]] = [
        ("settling stale payments", settle_stale_payments),
        ("settling pending refunds", settle_pending_refunds),
        ("purging old leases", lambda _: leases.purge()),
    ]
    for what, step in steps:
        try:
            await step(settings)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s failed", what)
    try:
        summary = await renew_due_subscriptions(settings)
        if summary.renewed or summary.failed or summary.ended:
            logger.info("billing cycle: %s", summary)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("billing cycle failed")


async def run_billing_scheduler(
    settings: Settings,
    every_seconds: float = BILLING_EVERY_SECONDS,
    stop: asyncio.Event | None = None,
) -> None:
    """Runs the billing pass about once every `every_seconds` across all processes: the pass
    holds the lease BILLING_LEASE for that long, so whichever process takes it first runs it and
    the others find it taken until it runs out (a crashed holder's turn passes on then)."""
    owner = leases.new_owner()
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            if await leases.claim(BILLING_LEASE, owner, every_seconds):
                await billing_pass(settings)
        except asyncio.CancelledError:
            raise
        except Exception:  # the scheduler must outlive a database hiccup
            logger.exception("billing pass failed")
        with contextlib.suppress(TimeoutError):
            # Look again well before the lease runs out, so the pass is not late by a poll.
            await asyncio.wait_for(stop.wait(), timeout=min(every_seconds / 4, 15.0))


class Jobs:
    """The job loops of one process, started together and stopped gracefully: on `stop()` each
    loop finishes the work under way (no new work is claimed) within the grace period; what is
    still running then is cancelled and its leases released."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        settings, stop = self.settings, self.stopping
        self.tasks = [
            asyncio.create_task(run_outbox_worker(settings, stop), name="outbox"),
            asyncio.create_task(
                webhook_delivery.run_worker(
                    settings,
                    poll_seconds=settings.job_poll_seconds,
                    lease_seconds=settings.job_lease_seconds,
                    stop=stop,
                ),
                name="webhooks",
            ),
            asyncio.create_task(run_billing_scheduler(settings, stop=stop), name="billing"),
        ]

    async def stop(self) -> None:
        self.stopping.set()
        outbox.wakeup.set()
        webhook_delivery.wakeup.set()
        if not self.tasks:
            return
        _, pending = await asyncio.wait(self.tasks, timeout=self.settings.shutdown_grace_seconds)
        for task in pending:
            logger.warning("job %s cut off at shutdown; its leases are released", task.get_name())
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def wait(self) -> None:
        """Until every loop has returned (after `stop`)."""
        await asyncio.gather(*self.tasks, return_exceptions=True)
