"""`node(id:)`: any object by its prefixed id, under the same rules as everywhere else."""

from __future__ import annotations

from typing import Any

from resolvers.context import Context
from services import customers
from services.businesses import get_business
from services.errors import NotFound
from services.ids import prefix_of


async def node(ctx: Context, node_id: str) -> Any:
    scope = ctx.require_any()
    prefix = prefix_of(node_id)
    if prefix == "bus" and node_id == scope.business_id:
        return await get_business(scope)
    if prefix == "cus":
        return await customers.get_customer(scope, node_id)
    raise NotFound("object")
