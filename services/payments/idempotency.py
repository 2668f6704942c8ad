"""Idempotency keys with Stripe's semantics: the same key and input replay the first result;
the same key with other input is IDEMPOTENCY_KEY_REUSED. Keys belong to a business, a mode and a
caller, and are kept at least 24 hours."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from models import IdempotencyRecord
from models.clock import now
from services.crypto import derive_key
from services.errors import ServiceError
from services.scope import Scope

KEEP = timedelta(hours=24)
WAIT_SECONDS = 15.0
ABANDONED_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Claim:
    record_id: str | None  # None when no key was given
    replay: dict[str, Any] | None = None


def request_fingerprint(secret_key: str, operation: str, request: dict[str, Any]) -> str:
    """An HMAC, not a plain hash: the request may hold a card number, which must not be
    recoverable from what we store."""
    body = json.dumps({"operation": operation, "request": request}, sort_keys=True, default=str)
    return hmac.new(
        derive_key(secret_key, "idempotency"), body.encode(), hashlib.sha256
    ).hexdigest()


async def claim(
    secret_key: str,
    scope: Scope,
    caller: str,
    key: str | None,
    operation: str,
    request: dict[str, Any],
) -> Claim:
    if key is None:
        return Claim(None)
    key = key.strip()
    if not key or len(key) > 255:
        raise ServiceError(
            "idempotencyKey must be 1 to 255 characters.",
            code="INVALID_IDEMPOTENCY_KEY",
            field=["idempotencyKey"],
        )
    fingerprint = request_fingerprint(secret_key, operation, request)
    where: dict[str, Any] = {
        "business_id": scope.business_id,
        "mode": scope.mode,
        "caller": caller,
        "key": key,
    }
    await IdempotencyRecord.filter(**where, expires_at__lt=now()).delete()
    try:
        record = await IdempotencyRecord.create(
            **where, operation=operation, request_hash=fingerprint, expires_at=now() + KEEP
        )
        return Claim(record.id)
    except IntegrityError:
        pass
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        existing = await IdempotencyRecord.get_or_none(**where)
        if existing is None:  # the first request failed unexpectedly and let the key go
            return await claim(secret_key, scope, caller, key, operation, request)
        if existing.request_hash != fingerprint:
            raise ServiceError(
                "This idempotency key was already used with different input.",
                code="IDEMPOTENCY_KEY_REUSED",
                field=["idempotencyKey"],
            )
        if existing.response is not None:
            return Claim(existing.id, replay=existing.response)
        if existing.created_at < now() - ABANDONED_AFTER:
            # Its request died before answering (a crash); settlement fixes the money, and the
            # key is free again.
            await IdempotencyRecord.filter(id=existing.id, response__isnull=True).delete()
            return await claim(secret_key, scope, caller, key, operation, request)
        if asyncio.get_running_loop().time() > deadline:
            raise ServiceError(
                "A request with this idempotency key is still being processed. Retry shortly.",
                code="IDEMPOTENCY_KEY_IN_USE",
                field=["idempotencyKey"],
            )
        await asyncio.sleep(0.05)


async def finish(claim_: Claim, response: dict[str, Any]) -> None:
    if claim_.record_id is not None and claim_.replay is None:
        await IdempotencyRecord.filter(id=claim_.record_id).update(response=response)


async def release(claim_: Claim) -> None:
    """After an unexpected failure: let a retry with the same key run again."""
    if claim_.record_id is not None and claim_.replay is None:
        await IdempotencyRecord.filter(id=claim_.record_id, response__isnull=True).delete()
