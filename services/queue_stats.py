"""What /metrics reads from the database at each scrape: the job queues (outbox messages by kind,
webhook deliveries) with their depth and the age of their oldest pending job, and how many
webhook deliveries and payments are in each status, over every business and mode.

Read at scrape time rather than counted in the process, so the numbers are the same whichever
process answers the scrape, and they survive restarts. Each is one GROUP BY over a column that
leads an index (`status`), so a scrape costs a few index scans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.billing import PaymentStatus
from models.clock import clock
from models.infra import OutboxStatus
from models.webhooks import WebhookDeliveryStatus
from services.sql import as_datetime, fetch_rows


@dataclass(frozen=True)
class QueueStats:
    queue: str  # "outbox" or "webhook_delivery"
    kind: str  # the outbox's kind (email, webhook, task); "webhook" for deliveries
    depth: int  # jobs not done yet (waiting for their first or next attempt)
    oldest_age_seconds: float  # since the oldest of them was created; 0 when none waits


@dataclass(frozen=True)
class StatusCount:
    status: str
    mode: str
    count: int


@dataclass(frozen=True)
class OperationalStats:
    queues: list[QueueStats]
    outbox_dead: dict[str, int]  # by kind: messages given up on after the last retry
    webhook_deliveries: list[StatusCount]
    webhook_endpoints_failing: dict[str, int]  # by mode: enabled endpoints failing right now
    payments: list[StatusCount]


OUTBOX_KINDS = ("email", "webhook", "task")


def _age(now: datetime, oldest: object) -> float:
    created = as_datetime(oldest) if isinstance(oldest, datetime | str) else None
    if created is None:
        return 0.0
    return max(0.0, (now - created).total_seconds())


async def operational_stats() -> OperationalStats:
    now = clock.now()
    outbox = await fetch_rows(
        "SELECT kind, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox_message "
        "WHERE status IN (?, ?) GROUP BY kind, status",
        [OutboxStatus.PENDING, OutboxStatus.DEAD],
    )
    pending = {row["kind"]: row for row in outbox if row["status"] == OutboxStatus.PENDING.value}
    queues = [
        QueueStats(
            "outbox",
            kind,
            int(pending[kind]["n"]) if kind in pending else 0,
            _age(now, pending[kind]["oldest"]) if kind in pending else 0.0,
        )
        for kind in OUTBOX_KINDS
    ]
    dead = {kind: 0 for kind in OUTBOX_KINDS}
    for row in outbox:
        if row["status"] == OutboxStatus.DEAD.value:
            dead[row["kind"]] = int(row["n"])
    deliveries = await fetch_rows(
        "SELECT d.status AS status, e.mode AS mode, COUNT(*) AS n, MIN(d.created_at) AS oldest "
        "FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id "
        "GROUP BY d.status, e.mode"
    )
    waiting = [row for row in deliveries if row["status"] == WebhookDeliveryStatus.PENDING.value]
    queues.append(
        QueueStats(
            "webhook_delivery",
            "webhook",
            sum(int(row["n"]) for row in waiting),
            max((_age(now, row["oldest"]) for row in waiting), default=0.0),
        )
    )
    failing = await fetch_rows(
        "SELECT mode, COUNT(*) AS n FROM webhook_endpoint "
        "WHERE failing_since IS NOT NULL AND disabled_at IS NULL GROUP BY mode"
    )
    failing_by_mode = {"test": 0, "live": 0} | {str(r["mode"]): int(r["n"]) for r in failing}
    payments = await fetch_rows(
        "SELECT status, mode, COUNT(*) AS n FROM payment GROUP BY status, mode"
    )
    return OperationalStats(
        queues=queues,
        outbox_dead=dead,
        webhook_deliveries=_counts(deliveries, [s.value for s in WebhookDeliveryStatus]),
        webhook_endpoints_failing=failing_by_mode,
        payments=_counts(payments, [s.value for s in PaymentStatus]),
    )


def _counts(rows: list[dict[str, object]], statuses: list[str]) -> list[StatusCount]:
    """Every status in both modes, 0 where no row has it: a series that appears only once
    something happened makes alerts on `increase()` miss the first one."""
    found = {(str(row["status"]), str(row["mode"])): int(str(row["n"])) for row in rows}
    return [
        StatusCount(status, mode, found.get((status, mode), 0))
        for status in statuses
        for mode in ("test", "live")
    ]
