"""The outbox: messages written with the change that causes them, delivered after commit.

A worker leases due messages with a conditional update (so several processes can share the work
and none sends a message twice at once), hands each to its transport, and records the outcome
while the lease is still its own. A worker that crashes loses its leases when they run out and
another worker takes the messages over. Mail goes out over several SMTP sessions at once, one
lane per recipient, so each recipient gets their messages in the order they were written.
A failed delivery is retried with exponential backoff; nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
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
from services import leases
from services.crypto import SecretBox
from services.leases import new_owner

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
    secret_key: str,
    handlers: Mapping[str, TaskHandler],
    limit: int = BATCH,
    *,
    lease_seconds: float = CLAIM_SECONDS,
    stop: asyncio.Event | None = None,
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
    owner = new_owner()
    for task in due:
        if stop is not None and stop.is_set():
            break
        at = now()
        if not await _claim(task.id, at, owner, at + timedelta(seconds=lease_seconds)):
            continue
        handler = handlers.get(task.topic)
        try:
            if handler is None:
                raise DeliveryError(f"no handler for task {task.topic}")
            await handler(json.loads(box.open(task.payload or "")))
        except asyncio.CancelledError:
            await _release(task.id, owner)
            raise
        except Exception as exc:
            await _record_failure(task, owner, type(exc).__name__)
            continue
        await _record_sent(task, owner)
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


async def _claim(message_id: str, at: datetime, owner: str, until: datetime) -> bool:
    """Leases a due message to `owner` until `until`: only while it is PENDING and not leased
    (or its lease ran out, e.g. its worker crashed)."""
    claimed = await OutboxMessage.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=at),
        id=message_id,
        status=OutboxStatus.PENDING,
    ).update(locked_until=until, claim_token=owner)
    return claimed == 1


async def _release(message_id: str, owner: str) -> None:
    """Gives a leased message back untouched (shutting down mid-way): due again at once."""
    await OutboxMessage.filter(id=message_id, claim_token=owner).update(
        locked_until=None, claim_token=None
    )


def _recipient_key(message: OutboxMessage) -> str:
    return (message.recipient or message.id).strip().lower()


async def deliver_due_messages(
    *,
    secret_key: str,
    mail: MailTransport,
    message_id_domain: str,
    limit: int = BATCH,
    concurrency: int = 1,
    lease_seconds: float = CLAIM_SECONDS,
    stop: asyncio.Event | None = None,
) -> int:
    """Deliver what is due now over up to `concurrency` SMTP sessions at once; returns how many
    were delivered.

    The due messages are split by recipient into lanes. A lane first takes the recipient's lease
    (services/leases.py), so in every process together one lane at a time sends to a recipient,
    and it sends that recipient's messages one after another in the order they were written.
    Each message is leased to the lane before it is sent and its outcome recorded only while the
    lease is still the lane's."""
    _, delivered = await _deliver_pass(
        secret_key, mail, message_id_domain, limit, concurrency, lease_seconds, stop
    )
    return delivered


def _due(at: datetime) -> Any:
    return OutboxMessage.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=at),
        kind=OutboxKind.EMAIL,
        status=OutboxStatus.PENDING,
        next_attempt_at__lte=at,
    )


async def _deliver_pass(
    secret_key: str,
    mail: MailTransport,
    message_id_domain: str,
    limit: int,
    concurrency: int,
    lease_seconds: float,
    stop: asyncio.Event | None,
) -> tuple[int, int]:
    due = await _due(now()).order_by("next_attempt_at", "created_at").limit(limit)
    lanes: dict[str, OutboxMessage] = {}
    for message in due:
        lanes.setdefault(_recipient_key(message), message)
    sessions = asyncio.Semaphore(max(concurrency, 1))
    box = secret_box(secret_key)

    async def lane(recipient: str, first: OutboxMessage) -> int:
        async with sessions:
            if stop is not None and stop.is_set():
                return 0
            return await _deliver_lane(
                recipient, first, box, mail, message_id_domain, lease_seconds, stop
            )

    results = await asyncio.gather(
        *(lane(key, row) for key, row in lanes.items()), return_exceptions=True
    )
    delivered = 0
    for result in results:
        if isinstance(result, asyncio.CancelledError):
            raise result
        if isinstance(result, BaseException):
            # One lane's database hiccup must not stop the others; its leases run out.
            logger.error("outbox lane failed", exc_info=result)
            continue
        delivered += result
    return len(due), delivered


async def _deliver_lane(
    recipient: str,
    first: OutboxMessage,
    box: SecretBox,
    mail: MailTransport,
    message_id_domain: str,
    lease_seconds: float,
    stop: asyncio.Event | None,
) -> int:
    """Sends one recipient's due messages in the order they were written, holding the
    recipient's lease. A message is leased until the same moment as the recipient, so when a
    crashed lane's recipient lease has run out, its messages' leases have too, and the next
    lane finds them all (and sends them in order)."""
    owner = new_owner()
    lease = "mail:" + hashlib.sha256(recipient.encode()).hexdigest()[:40]
    until = await leases.claim(lease, owner, lease_seconds)
    if until is None:
        return 0  # another lane (maybe in another process) is sending to this recipient
    delivered = 0
    try:
        if first.recipient is None:
            messages = [first]
        else:
            # Read again under the lease: what is due for this recipient now, in order.
            messages = list(
                await _due(now())
                .filter(recipient__iexact=first.recipient)
                .order_by("created_at", "id")
                .limit(BATCH)
            )
        for index, message in enumerate(messages):
            if stop is not None and stop.is_set():
                break
            if index:
                until = await leases.renew(lease, owner, lease_seconds)
                if until is None:
                    break  # our lease ran out and was taken: the rest is someone else's now
            if not await _claim(message.id, now(), owner, until):
                continue  # sent or leased meanwhile
            try:
                email = EmailMessage(**json.loads(box.open(message.payload or "")))
                await mail.send(email, message_id_domain)
            except asyncio.CancelledError:
                await _release(message.id, owner)
                raise
            except DeliveryError as exc:
                await _record_failure(message, owner, str(exc), permanent=exc.permanent)
                continue
            except ValueError as exc:
                await _record_failure(message, owner, str(exc))
                continue
            await _record_sent(message, owner)
            delivered += 1
    finally:
        await leases.release(lease, owner)
    return delivered


async def _record_sent(message: OutboxMessage, owner: str) -> None:
    kept = await OutboxMessage.filter(id=message.id, claim_token=owner).update(
        status=OutboxStatus.SENT,
        sent_at=now(),
        attempts=message.attempts + 1,
        locked_until=None,
        claim_token=None,
        last_error=None,
        payload=None,  # the body may hold a one-time link: keep it no longer than needed
    )
    if not kept:
        logger.warning("outbox %s: lease lost before it was recorded as sent", message.id)


async def _record_failure(
    message: OutboxMessage, owner: str, error: str, *, permanent: bool = False
) -> None:
    """Retried with backoff, up to MAX_ATTEMPTS; a permanent failure is DEAD at once."""
    attempts = message.attempts + 1
    dead = permanent or attempts >= MAX_ATTEMPTS
    await OutboxMessage.filter(id=message.id, claim_token=owner).update(
        attempts=attempts,
        locked_until=None,
        claim_token=None,
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
    concurrency: int = 1,
    lease_seconds: float = CLAIM_SECONDS,
    stop: asyncio.Event | None = None,
) -> None:
    """Runs due tasks and delivers due messages, then sleeps until nudged or the next poll;
    returns once `stop` is set (after the pass under way)."""
    wakeup.event = asyncio.Event()
    while stop is None or not stop.is_set():
        wakeup.event.clear()
        more = False
        try:
            if tasks:
                await run_due_tasks(secret_key, tasks, lease_seconds=lease_seconds, stop=stop)
            looked_at, _ = await _deliver_pass(
                secret_key, mail, message_id_domain, BATCH, concurrency, lease_seconds, stop
            )
            more = looked_at == BATCH
        except asyncio.CancelledError:
            raise
        except Exception:  # the worker must outlive a database hiccup
            logger.exception("outbox worker pass failed")
        if more or (stop is not None and stop.is_set()):
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.event.wait(), timeout=poll_seconds)
