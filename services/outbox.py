"""The outbox: messages written with the change that causes them, delivered after commit.

A worker claims due messages with a conditional update (so several processes can share the work
and none sends a message twice at once), hands each to its transport, and records the outcome.
A failed delivery is retried with exponential backoff; nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from tortoise.expressions import Q

from mailers import DeliveryError, EmailMessage, MailTransport
from models import Mode, OutboxKind, OutboxMessage, OutboxStatus
from models.clock import now
from services.crypto import SecretBox

logger = logging.getLogger("portal.outbox")

CLAIM_SECONDS = 120
MAX_ATTEMPTS = 15  # ~4 days with the backoff below
BATCH = 50


@lru_cache(maxsize=4)
def secret_box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


class _Wakeup:
    """Lets a request nudge the worker right after its transaction commits."""

    def __init__(self) -> None:
        self.event: asyncio.Event | None = None

    def set(self) -> None:
        if self.event is not None:
            self.event.set()


wakeup = _Wakeup()


async def enqueue_email(
    secret_key: str,
    message: EmailMessage,
    *,
    topic: str,
    business_id: str | None,
    mode: Mode | None,
) -> OutboxMessage:
    """Call inside the transaction of the change that causes the email, then `notify_worker`."""
    sealed = secret_box(secret_key).seal(json.dumps(asdict(message)))
    row = await OutboxMessage.create(
        kind=OutboxKind.EMAIL,
        topic=topic,
        business_id=business_id,
        mode=mode.value if mode else None,
        recipient=message.to,
        payload=sealed,
        next_attempt_at=now(),
    )
    return row


async def enqueue_task(secret_key: str, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Work for the worker, after commit: `topic` names a handler given to `run_due_tasks`.
    The payload is sealed like an email's (it may hold an address)."""
    return await OutboxMessage.create(
        kind=OutboxKind.TASK,
        topic=topic,
        payload=secret_box(secret_key).seal(json.dumps(payload)),
        next_attempt_at=now(),
    )


TaskHandler = Callable[[dict[str, Any]], Awaitable[None]]


async def run_due_tasks(
    secret_key: str, handlers: Mapping[str, TaskHandler], limit: int = BATCH
) -> int:
    """Runs the tasks due now, each claimed by one worker; returns how many ran. A task that
    fails is retried with the same backoff as a delivery."""
    at = now()
    due = (
        await OutboxMessage.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=at),
            kind=OutboxKind.TASK,
            status=OutboxStatus.PENDING,
            next_attempt_at__lte=at,
        )
        .order_by("next_attempt_at", "created_at")
        .limit(limit)
    )
    done = 0
    box = secret_box(secret_key)
    for task in due:
        if not await _claim(task.id, at):
            continue
        handler = handlers.get(task.topic)
        try:
            if handler is None:
                raise DeliveryError(f"no handler for task {task.topic}")
            await handler(json.loads(box.open(task.payload or "")))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await _record_failure(task, type(exc).__name__)
            continue
        await _record_sent(task)
        done += 1
    return done


_listeners: list[Callable[[], None]] = []


def on_commit_notify(listener: Callable[[], None]) -> None:
    """Other workers that deliver outbox rows (the webhook sender) ask to be woken too."""
    _listeners.append(listener)


def notify_worker() -> None:
    """Call after the transaction that enqueued messages has committed."""
    wakeup.set()
    for listener in _listeners:
        listener()


Deliver = Callable[[OutboxMessage], Awaitable[None]]


async def _claim(message_id: str, at: datetime) -> bool:
    claimed = await OutboxMessage.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=at),
        id=message_id,
        status=OutboxStatus.PENDING,
    ).update(locked_until=at + timedelta(seconds=CLAIM_SECONDS))
    return claimed == 1


async def deliver_due_messages(
    *, secret_key: str, mail: MailTransport, message_id_domain: str, limit: int = BATCH
) -> int:
    """Deliver what is due now; returns how many were delivered."""
    at = now()
    due = (
        await OutboxMessage.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=at),
            kind=OutboxKind.EMAIL,
            status=OutboxStatus.PENDING,
            next_attempt_at__lte=at,
        )
        .order_by("next_attempt_at", "created_at")
        .limit(limit)
    )
    delivered = 0
    box = secret_box(secret_key)
    for message in due:
        if not await _claim(message.id, at):
            continue  # another worker has it
        try:
            if message.kind == OutboxKind.EMAIL:
                email = EmailMessage(**json.loads(box.open(message.payload or "")))
                await mail.send(email, message_id_domain)
            else:
                raise DeliveryError(f"no deliverer for {message.kind}")
        except DeliveryError as exc:
            await _record_failure(message, str(exc), permanent=exc.permanent)
            continue
        except ValueError as exc:
            await _record_failure(message, str(exc))
            continue
        await _record_sent(message)
        delivered += 1
    return delivered


async def _record_sent(message: OutboxMessage) -> None:
    await OutboxMessage.filter(id=message.id).update(
        status=OutboxStatus.SENT,
        sent_at=now(),
        attempts=message.attempts + 1,
        locked_until=None,
        last_error=None,
        payload=None,  # the body may hold a one-time link: keep it no longer than needed
    )


async def _record_failure(message: OutboxMessage, error: str, *, permanent: bool = False) -> None:
    """Retried with backoff, up to MAX_ATTEMPTS; a permanent failure is DEAD at once."""
    attempts = message.attempts + 1
    dead = permanent or attempts >= MAX_ATTEMPTS
    await OutboxMessage.filter(id=message.id).update(
        attempts=attempts,
        locked_until=None,
        last_error=error[:500],
        next_attempt_at=now() + retry_delay(attempts),
        status=OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
    )
    log = logger.error if dead else logger.warning
    log("outbox %s (%s) attempt %d failed: %s", message.id, message.topic, attempts, error)


async def run_worker(
    *,
    secret_key: str,
    mail: MailTransport,
    message_id_domain: str,
    tasks: Mapping[str, TaskHandler] | None = None,
    poll_seconds: float = 5.0,
) -> None:
    """Runs with the app: runs due tasks and delivers due messages, then sleeps until nudged
    or the next poll."""
    wakeup.event = asyncio.Event()
    while True:
        wakeup.event.clear()
        try:
            if tasks:
                await run_due_tasks(secret_key, tasks)
            await deliver_due_messages(
                secret_key=secret_key, mail=mail, message_id_domain=message_id_domain
            )
        except asyncio.CancelledError:
            raise
        except Exception:  # the worker must outlive a database hiccup
            logger.exception("outbox worker pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.event.wait(), timeout=poll_seconds)
