"""`node(id:)` and the mapping from models to their types."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

import models
from resolvers import nodes as resolve
from resolvers.context import Context
from schema.merchant import business_view
from schema.types import Customer, Node


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its id, if the caller may see it.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node:
        row = await resolve.node(info.context, str(id))
        if isinstance(row, models.Business):
            return business_view(info, row)
        if isinstance(row, models.Customer):
            return Customer.from_model(row)
        raise TypeError(f"no GraphQL type for {type(row).__name__}")
