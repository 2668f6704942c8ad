"""`node(id:)`: any object by its prefixed id, under the same rules as everywhere else."""

from __future__ import annotations

from typing import Any

from models import Business
from resolvers.context import Context
from resolvers.merchant import profile_of
from services.objects import find_object


async def node(ctx: Context, node_id: str) -> Any:
    """A model, or the business's profile for a business id."""
    found = await find_object(ctx.scope(), node_id)
    if isinstance(found, Business):
        return profile_of(ctx, found)
    return found
