"""Live payment status: who is told when a payment's status changes, across server processes.

A change is announced by the payment's id alone, after the transaction that made it commits;
whoever listens reads the payment again (within its own scope) and sees what was committed.
Nothing else travels, so a channel shared by every tenant tells nobody anything but that some
payment changed.

How the announcement reaches the other server processes, chosen once per process from the
settings (`configure`):

- `PORTAL_REDIS_URL` set: Redis pub/sub on the channel `portal:payment_updated`
  (redis-py's asyncio client; one subscription per process).
- PostgreSQL: `NOTIFY payment_updated, '<payment id>'`; each process keeps one dedicated asyncpg
  connection that `LISTEN`s (asyncpg's `add_listener`), opened with the first watcher.
- Otherwise (SQLite, a single process): in-process only.

Every process also wakes its own watchers at once (no round trip), and a watcher reads the
payment again every `POLL_SECONDS` whatever it was told: an announcement lost to a dropped
connection (or a change recorded by code that does not announce) is seen late, never missed.
A watcher reports a status only when it differs from the last one it reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise import connections
from tortoise.transactions import in_transaction

from models import Payment, PaymentStatus
from services.errors import NotFound
from services.scope import Scope

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from services.settings import Settings

logger = logging.getLogger("portal.payment_updates")

CHANNEL = "payment_updated"
REDIS_CHANNEL = "portal:payment_updated"
# Statuses a payment can still leave; any other is final.
OPEN_STATUSES = frozenset({PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION})
POLL_SECONDS = 15.0


class _Hub:
    """This process's watchers, by payment id: each an Event set when it should look again."""

    def __init__(self) -> None:
        self.watchers: dict[str, set[asyncio.Event]] = {}

    def add(self, payment_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self.watchers.setdefault(payment_id, set()).add(event)
        return event

    def remove(self, payment_id: str, event: asyncio.Event) -> None:
        events = self.watchers.get(payment_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self.watchers[payment_id]

    def wake(self, payment_id: str) -> None:
        for event in self.watchers.get(payment_id, ()):
            event.set()

    def wake_all(self) -> None:
        for events in self.watchers.values():
            for event in events:
                event.set()

    def __len__(self) -> int:
        return len(self.watchers)


class _Broker:
    """In-process only; the base of the others."""

    kind = "in-process"

    def __init__(self) -> None:
        self.hub = _Hub()

    async def announce(self, payment_id: str) -> None:
        """Tells the other processes (nothing to do here)."""

    async def listen(self) -> None:
        """Makes sure announcements from the other processes reach this one's hub."""

    async def close(self) -> None:
        """Gives back what `listen` opened."""


class _PostgresBroker(_Broker):
    kind = "postgresql"

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.dsn = asyncpg_dsn(database_url)
        self.connection: asyncpg.Connection | None = None
        self.lock = asyncio.Lock()

    async def announce(self, payment_id: str) -> None:
        # Through the ORM's own pool: NOTIFY needs no connection of its own. Outside a
        # transaction, so it is delivered at once.
        await connections.get("default").execute_query(
            "SELECT pg_notify($1, $2)", [CHANNEL, payment_id]
        )

    async def listen(self) -> None:
        async with self.lock:
            if self.connection is not None and not self.connection.is_closed():
                return
            connection = await asyncpg.connect(self.dsn, timeout=10)
            await connection.add_listener(CHANNEL, self._notified)
            connection.add_termination_listener(self._lost)
            self.connection = connection

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.hub.wake(payload)

    def _lost(self, connection: Any) -> None:
        # The next watcher reconnects; the ones waiting now look again.
        logger.warning("the LISTEN connection closed; watchers read again")
        self.connection = None
        self.hub.wake_all()

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            await connection.close()


class _RedisBroker(_Broker):
    kind = "redis"

    def __init__(self, redis_url: str) -> None:
        super().__init__()
        self.redis_url = redis_url
        self.client: Redis | None = None
        self.reader: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    def _client(self) -> Redis:
        if self.client is None:
            from redis.asyncio import Redis

            self.client = Redis.from_url(self.redis_url)
        return self.client

    async def announce(self, payment_id: str) -> None:
        await self._client().publish(REDIS_CHANNEL, payment_id)

    async def listen(self) -> None:
        async with self.lock:
            if self.reader is not None and not self.reader.done():
                return
            pubsub = self._client().pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(REDIS_CHANNEL)
            self.reader = asyncio.create_task(self._read(pubsub))

    async def _read(self, pubsub: Any) -> None:
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = message["data"]
                    self.hub.wake(data.decode() if isinstance(data, bytes) else str(data))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("the Redis subscription was lost; watchers read again", exc_info=True)
            self.hub.wake_all()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def close(self) -> None:
        reader, self.reader = self.reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        client, self.client = self.client, None
        if client is not None:
            await client.aclose()


def asyncpg_dsn(database_url: str) -> str:
    """Tortoise's PostgreSQL URL as asyncpg takes it (without the pool's parameters)."""
    parts = urlsplit(database_url)
    scheme = "postgresql" if parts.scheme in {"postgres", "asyncpg", "psycopg"} else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme, query=""))


def broker_for(settings: Settings) -> _Broker:
    if settings.redis_url:
        return _RedisBroker(settings.redis_url)
    if urlsplit(settings.database_url).scheme in {"postgres", "postgresql", "asyncpg", "psycopg"}:
        return _PostgresBroker(settings.database_url)
    return _Broker()


_broker: _Broker = _Broker()


def configure(settings: Settings) -> str:
    """Chooses how this process announces and hears changes (the app does this at start-up).
    Returns the kind: redis, postgresql or in-process. Connections open when first needed."""
    global _broker
    previous, _broker = _broker, broker_for(settings)
    if previous.hub.watchers:
        previous.hub.wake_all()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop, so nothing of the previous one was opened in this one
    else:
        closing = loop.create_task(previous.close())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)
    return _broker.kind


_closing: set[asyncio.Task[None]] = set()


async def close() -> None:
    """Gives back the broker's connections (at shutdown); the process is in-process only then."""
    global _broker
    closing, _broker = _broker, _Broker()
    if closing.hub.watchers:
        closing.hub.wake_all()
    await closing.close()


# Changes recorded inside `transaction()`: announced once it commits.
_pending: ContextVar[list[str] | None] = ContextVar("payment_updates_pending", default=None)


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """`in_transaction()` for code that changes a payment's status: the payments it changed
    (`changed`) are announced once it has committed, never when it rolls back."""
    pending: list[str] = []
    token = _pending.set(pending)
    try:
        async with in_transaction():
            yield
    finally:
        _pending.reset(token)
    for payment_id in dict.fromkeys(pending):
        await announce(payment_id)


async def changed(payment_id: str) -> None:
    """A payment's status changed: announced when the surrounding `transaction()` commits, or
    now when there is none (the change was its own statement, committed already)."""
    pending = _pending.get()
    if pending is not None:
        pending.append(payment_id)
        return
    await announce(payment_id)


async def announce(payment_id: str) -> None:
    """Wakes this process's watchers and tells the others. A broker that cannot be reached
    delays the others' watchers until their next poll; it never fails the change itself."""
    broker = _broker
    broker.hub.wake(payment_id)
    try:
        await broker.announce(payment_id)
    except Exception as exc:
        logger.warning("announcing %s over %s failed: %s", payment_id, broker.kind, exc)


async def watch(
    scope: Scope, payment_id: str, *, poll_seconds: float = POLL_SECONDS
) -> AsyncIterator[Payment]:
    """The payment as it is now, then each time its status changes, until a final one.
    NotFound for a payment outside the scope, exactly as for one that does not exist."""
    filters: dict[str, Any] = scope.filters()

    async def read() -> Payment | None:
        return await Payment.get_or_none(id=payment_id, **filters)

    payment = await read()
    if payment is None:
        raise NotFound("payment", field=["paymentId"])
    broker = _broker
    try:
        await broker.listen()
    except Exception as exc:
        # Slower, not wrong: the watcher still polls.
        logger.warning("listening over %s failed: %s", broker.kind, exc)
    event = broker.hub.add(payment_id)
    try:
        # Read again now that the watcher is registered: a change between the first read and
        # the registration is not lost.
        payment = await read() or payment
        yield payment
        last = payment.status
        while last in OPEN_STATUSES:
            if broker is not _broker:  # reconfigured or closed: follow the current broker
                broker.hub.remove(payment_id, event)
                broker = _broker
                event = broker.hub.add(payment_id)
            try:
                await broker.listen()  # again, after a lost connection
            except Exception as exc:
                logger.warning("listening over %s failed: %s", broker.kind, exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll_seconds):
                    await event.wait()
            event.clear()
            current = await read()
            if current is None:  # deleted (a test database torn down): nothing more to say
                return
            if current.status != last:
                last = current.status
                yield current
    finally:
        broker.hub.remove(payment_id, event)


def watchers() -> int:
    """How many payments this process watches (for tests and logs)."""
    return len(_broker.hub)


__all__: list[str] = [
    "OPEN_STATUSES",
    "announce",
    "changed",
    "close",
    "configure",
    "transaction",
    "watch",
    "watchers",
]
