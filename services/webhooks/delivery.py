"""The webhook worker: fans each recorded event out to the endpoints that want it, then delivers
every due delivery, retrying on a fixed schedule, at least once and never twice at once.

Several processes may run it side by side on PostgreSQL. An event is fanned out by the one
transaction that flips its outbox row from PENDING (a conditional update); a delivery is
claimed with `SELECT … FOR UPDATE SKIP LOCKED` (nothing on SQLite, where transactions queue on
one lock) plus a conditional update that stamps the worker's claim token, so a delivery is
attempted by one worker at a time and a crashed worker's claim simply runs out. The HTTP call
happens outside any transaction; its outcome is recorded only while the token still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from tortoise.exceptions import BaseORMException
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

import mailers
from models import Business
from models.clock import now
from models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookDisabledReason,
    WebhookEndpoint,
    WebhookEvent,
)
from services import outbox
from services.business_settings import time_zone_of
from services.outbox import enqueue_email, notify_worker
from services.webhooks.endpoints import disable_endpoint, signing_secrets
from services.webhooks.fan_out import FAN_OUT_BATCH, fan_out
from services.webhooks.sender import Outcome, new_client, post
from services.webhooks.signing import encode_body, webhook_headers

if TYPE_CHECKING:
    from services.settings import Settings

logger = logging.getLogger("portal.webhooks")

# The wait after the 1st, 2nd, … failed attempt; the first attempt is immediate, so a delivery
# gets 8 attempts over about 28 hours.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # ±10 %, so retries of many deliveries do not arrive in one burst
DISABLE_AFTER = timedelta(days=3)  # of failing without a single success
CLAIM_SECONDS = 120  # well over the 15 s request timeout
BATCH = 20  # deliveries attempted at once by one worker
MAX_ROUNDS = 10


def retry_delay(attempts_made: int, rand: float | None = None) -> timedelta | None:
    """The wait before the next attempt, or None when the last one has been made."""
    if attempts_made < 1 or attempts_made > len(RETRY_DELAYS):
        return None
    factor = 1 + JITTER * (2 * (random.random() if rand is None else rand) - 1)
    return RETRY_DELAYS[attempts_made - 1] * factor


@dataclass
class PassSummary:
    fanned_out: int = 0  # deliveries created for new events
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    more_due: bool = False  # the pass stopped at its limits with work left: go again at once


class _Wakeup:
    def __init__(self) -> None:
        self.event: asyncio.Event | None = None

    def set(self) -> None:
        if self.event is not None:
            self.event.set()


wakeup = _Wakeup()


def notify_delivery_worker() -> None:
    """After a commit that made deliveries due now (a redelivery, or any new event)."""
    wakeup.set()


outbox.on_commit_notify(notify_delivery_worker)


# Claiming


async def claim_due_deliveries(
    at: datetime, limit: int = BATCH, lease_seconds: float = CLAIM_SECONDS
) -> tuple[str, list[WebhookDelivery]]:
    """Claims up to `limit` due deliveries for this worker; returns its token and the rows."""
    token = secrets.token_hex(16)
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=at)
    async with in_transaction():
        candidates = (
            await WebhookDelivery.filter(
                free, status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=at
            )
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        ids = [row.id for row in candidates]
        if not ids:
            return token, []
        await WebhookDelivery.filter(free, id__in=ids, status=WebhookDeliveryStatus.PENDING).update(
            locked_until=at + timedelta(seconds=lease_seconds), claim_token=token
        )
    claimed = await WebhookDelivery.filter(id__in=ids, claim_token=token).order_by(
        "next_attempt_at", "id"
    )
    return token, list(claimed)


# Delivering


def _signing_timestamp() -> int:
    # The receiver compares webhook-timestamp with its own wall clock (Standard Webhooks allows
    # five minutes of skew), so this is real time, not the injectable clock that schedules.
    return int(time.time())


async def _attempt(
    settings: Settings,
    client: httpx.AsyncClient,
    event: WebhookEvent,
    endpoint: WebhookEndpoint,
    at: datetime,
) -> Outcome:
    try:
        keys = signing_secrets(settings.secret_key, endpoint, at)
    except ValueError:
        return Outcome(None, "the endpoint's secret cannot be opened with this server's key", 0)
    body = encode_body(event.payload)
    headers = webhook_headers(keys, event.id, _signing_timestamp(), body)
    return await post(
        client,
        endpoint.url,
        headers,
        body,
        allow_private=settings.webhook_allow_private,
        require_https=settings.production,
    )


async def _tell_merchant(
    settings: Settings, endpoint: WebhookEndpoint, reason: WebhookDisabledReason
) -> None:
    """Inside the transaction that disabled the endpoint."""
    business = await Business.get(id=endpoint.business_id)
    with mailers.in_time_zone(time_zone_of(business)):
        message = mailers.webhook_endpoint_disabled(
            to=business.support_email,
            business_name=business.name,
            url=endpoint.url,
            reason=reason.value,
            failing_since=endpoint.failing_since,
            from_addr=settings.mail_from,
            locale=business.locale,
        )
    await enqueue_email(
        settings.secret_key,
        message,
        topic="webhook_endpoint_disabled",
        business_id=business.id,
        mode=endpoint.mode,
    )


async def _record(
    settings: Settings,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    token: str,
    started_at: datetime,
    outcome: Outcome,
) -> bool:
    """Writes the attempt and what follows from it; returns True if the endpoint was disabled."""
    number = delivery.attempts + 1
    at = now()
    common: dict[str, object] = {
        "attempts": number,
        "last_attempt_at": started_at,
        "last_response_status": outcome.status,
        "last_error": outcome.error[:500] if outcome.error else None,
        "locked_until": None,
        "claim_token": None,
    }
    disabled_for: WebhookDisabledReason | None = None
    async with in_transaction():
        await WebhookAttempt.create(
            event_id=delivery.event_id,
            endpoint_id=endpoint.id,
            delivery_id=delivery.id,
            attempt=number,
            succeeded=outcome.succeeded,
            response_status=outcome.status,
            duration_ms=outcome.duration_ms,
            error=outcome.error[:500] if outcome.error else None,
            created_at=started_at,
        )
        mine = WebhookDelivery.filter(id=delivery.id, claim_token=token)
        if outcome.succeeded:
            kept = await mine.update(
                status=WebhookDeliveryStatus.SUCCEEDED,
                delivered_at=at,
                next_attempt_at=None,
                **common,
            )
            await WebhookEndpoint.filter(id=endpoint.id, failing_since__isnull=False).update(
                failing_since=None
            )
        elif outcome.status == 410:
            # The receiver says the endpoint is gone for good: stop sending to it.
            kept = await mine.update(
                status=WebhookDeliveryStatus.FAILED, next_attempt_at=None, **common
            )
            if await disable_endpoint(endpoint.id, WebhookDisabledReason.GONE, at):
                disabled_for = WebhookDisabledReason.GONE
        else:
            delay = retry_delay(number)
            if delay is None:
                kept = await mine.update(
                    status=WebhookDeliveryStatus.FAILED, next_attempt_at=None, **common
                )
            else:
                kept = await mine.update(next_attempt_at=at + delay, **common)
            await WebhookEndpoint.filter(id=endpoint.id, failing_since__isnull=True).update(
                failing_since=started_at
            )
            await endpoint.refresh_from_db(fields=["failing_since"])
            since = endpoint.failing_since
            failing_too_long = since is not None and at - since >= DISABLE_AFTER
            if failing_too_long and await disable_endpoint(
                endpoint.id, WebhookDisabledReason.FAILING, at
            ):
                disabled_for = WebhookDisabledReason.FAILING
        if disabled_for is not None:
            await _tell_merchant(settings, endpoint, disabled_for)
    if not kept:
        logger.warning("delivery %s: claim lost before its outcome was recorded", delivery.id)
    if disabled_for is not None:
        logger.warning("webhook endpoint %s disabled (%s)", endpoint.id, disabled_for.value)
        notify_worker()
    return disabled_for is not None


async def _deliver(
    settings: Settings,
    client: httpx.AsyncClient,
    delivery: WebhookDelivery,
    event: WebhookEvent | None,
    endpoint: WebhookEndpoint | None,
    token: str,
    summary: PassSummary,
) -> None:
    if event is None or endpoint is None:
        return  # deleted meanwhile (its deliveries go with it)
    if endpoint.disabled_at is not None:
        await WebhookDelivery.filter(id=delivery.id, claim_token=token).update(
            status=WebhookDeliveryStatus.CANCELLED,
            next_attempt_at=None,
            locked_until=None,
            claim_token=None,
        )
        return
    started_at = now()
    outcome = await _attempt(settings, client, event, endpoint, started_at)
    summary.attempted += 1
    if outcome.succeeded:
        summary.succeeded += 1
    else:
        summary.failed += 1
        logger.info(
            "webhook %s to %s attempt %d failed: %s",
            event.id,
            endpoint.id,
            delivery.attempts + 1,
            outcome.error if outcome.status is None else outcome.status,
        )
    try:
        await _record(settings, delivery, endpoint, token, started_at, outcome)
    except BaseORMException:
        # E.g. the endpoint was deleted while the request ran: nothing left to record against.
        logger.warning("delivery %s: outcome not recorded", delivery.id, exc_info=True)


async def release_claims(token: str) -> None:
    """Gives back what a worker claimed but did not finish (cut off at shutdown): due at once."""
    await WebhookDelivery.filter(claim_token=token, status=WebhookDeliveryStatus.PENDING).update(
        locked_until=None, claim_token=None
    )


async def deliver_due_webhooks(
    settings: Settings,
    *,
    client: httpx.AsyncClient | None = None,
    batch: int = BATCH,
    lease_seconds: float = CLAIM_SECONDS,
    stop: asyncio.Event | None = None,
) -> PassSummary:
    """One worker pass: fan out new events, then attempt every delivery that is due now."""
    looked_at, created = await fan_out(FAN_OUT_BATCH)
    summary = PassSummary(fanned_out=created, more_due=looked_at == FAN_OUT_BATCH)
    owned = client is None
    http = client or new_client()
    try:
        for round_number in range(1, MAX_ROUNDS + 1):
            if stop is not None and stop.is_set():
                break
            token, claimed = await claim_due_deliveries(now(), batch, lease_seconds)
            if not claimed:
                break
            events = {
                row.id: row
                for row in await WebhookEvent.filter(id__in={d.event_id for d in claimed})
            }
            endpoints = {
                row.id: row
                for row in await WebhookEndpoint.filter(id__in={d.endpoint_id for d in claimed})
            }
            deliveries = asyncio.gather(
                *(
                    _deliver(
                        settings,
                        http,
                        delivery,
                        events.get(delivery.event_id),
                        endpoints.get(delivery.endpoint_id),
                        token,
                        summary,
                    )
                    for delivery in claimed
                )
            )
            try:
                await deliveries
            except asyncio.CancelledError:
                await release_claims(token)
                raise
            if len(claimed) < batch:
                break
            if round_number == MAX_ROUNDS:
                summary.more_due = True
    finally:
        if owned:
            await http.aclose()
    return summary


async def run_worker(
    settings: Settings,
    poll_seconds: float = 2.0,
    lease_seconds: float = CLAIM_SECONDS,
    stop: asyncio.Event | None = None,
) -> None:
    """Delivers what is due, then sleeps until nudged or the next poll; returns once `stop` is
    set (after the deliveries under way)."""
    wakeup.event = asyncio.Event()
    async with new_client() as client:
        while stop is None or not stop.is_set():
            wakeup.event.clear()
            try:
                summary = await deliver_due_webhooks(
                    settings, client=client, lease_seconds=lease_seconds, stop=stop
                )
                if summary.more_due:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker must outlive a database hiccup
                logger.exception("webhook worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.event.wait(), timeout=poll_seconds)
