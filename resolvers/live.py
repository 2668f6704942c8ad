"""Live updates (the schema's subscription root, `Live`): who may watch what."""

from __future__ import annotations

from collections.abc import AsyncIterator

from models import Payment
from resolvers.context import Context
from services import payment_updates


async def payment_updated(ctx: Context, payment_id: str) -> AsyncIterator[Payment]:
    """For the payment's customer (their own payments) or its business's key of the same mode:
    the payment now, then at each status change until a final one. Anyone else's payment is
    NOT_FOUND, exactly like one that does not exist."""
    async for payment in payment_updates.watch(ctx.scope(), payment_id):
        # One connection's context lives as long as the socket: each event reads afresh.
        ctx.forget_reads()
        yield payment
