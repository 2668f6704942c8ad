"""`node(id:)`: any object by its prefixed id, under the same rules as everywhere else."""

from __future__ import annotations

from typing import Any

from models import Business, Invoice
from resolvers.context import Context
from resolvers.merchant import profile_of
from services.errors import NotFound, ServiceError
from services.objects import find_object
from services.portal_settings import CustomerAction, require_customer_may_in


async def node(ctx: Context, node_id: str) -> Any:
    """A model, or the business's profile for a business id."""
    found = await find_object(ctx.scope(), node_id)
    if isinstance(found, Invoice):
        # A business that shows no invoices in the portal shows none through node(id:) either.
        try:
            await require_customer_may_in(ctx.scope(), CustomerAction.VIEW_INVOICES)
        except ServiceError:
            raise NotFound("invoice") from None
    if isinstance(found, Business):
        return profile_of(ctx, found)
    return found
