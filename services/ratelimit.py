"""Rate limits with the `limits` library: in memory per process, or shared through Redis."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from services.errors import RateLimited


class RateLimiter:
    def __init__(self, redis_url: str | None = None, namespace: str = "portal") -> None:
        if redis_url:
            uri = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            storage = storage_from_string(uri, key_prefix=namespace)
        else:
            storage = storage_from_string("async+memory://")
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, limit: str, bucket: str, identifier: str) -> bool:
        """Counts one hit; False once the limit is exceeded. Identifiers are hashed, so emails
        and license keys never reach the rate-limit store in the clear."""
        digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
        return await self._limiter.hit(parse(limit), bucket, digest)

    async def check(self, limit: str, bucket: str, identifier: str) -> None:
        if not await self.hit(limit, bucket, identifier):
            raise RateLimited("Too many requests. Please try again later.")

    async def reset(self) -> None:
        """Forgets every count (tests)."""
        reset: Any = self._storage.reset()
        if inspect.isawaitable(reset):
            await reset
