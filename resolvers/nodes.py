"""`node(id:)`: any object by its prefixed id, under the same rules as everywhere else."""

from __future__ import annotations

from typing import Any

from models import (
    Invoice,
    LicenseKey,
    LicenseKeyInstance,
    Payment,
    PaymentMethod,
    Product,
    Subscription,
)
from models.ids import prefix_of, well_formed
from models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookEvent
from resolvers.context import Context
from services import customers
from services.businesses import get_business
from services.errors import NotFound

# Objects a customer may also see when they are their own (the query adds customer_id).
_OWNED = {"sub": Subscription, "pay": Payment, "inv": Invoice, "pm": PaymentMethod}
# The merchant's alone: a customer's session never sees them.
_MERCHANTS = {"whk": WebhookEndpoint, "evt": WebhookEvent}


async def node(ctx: Context, node_id: str) -> Any:
    scope = ctx.require_any()
    if not well_formed(node_id):
        raise NotFound("object")
    prefix = prefix_of(node_id)
    if prefix == "bus" and node_id == scope.business_id:
        return await get_business(scope)
    if prefix == "cus":
        return await customers.get_customer(scope, node_id)
    if prefix == "pdt":
        row = await Product.get_or_none(id=node_id, business_id=scope.business_id, mode=scope.mode)
        if row is not None:
            return row
    if prefix == "lic":
        row = await LicenseKey.get_or_none(id=node_id, **scope.filters())
        if row is not None:
            return row
    if prefix == "lki":
        owner = {f"license_key__{name}": value for name, value in scope.filters().items()}
        row = await LicenseKeyInstance.get_or_none(id=node_id, **owner)
        if row is not None:
            return row
    merchants = _MERCHANTS.get(prefix or "")
    if merchants is not None and scope.customer_id is None:
        row = await merchants.get_or_none(
            id=node_id, business_id=scope.business_id, mode=scope.mode
        )
        if row is not None:
            return row
    if prefix == "wha" and scope.customer_id is None:
        row = await WebhookAttempt.get_or_none(
            id=node_id, event__business_id=scope.business_id, event__mode=scope.mode
        )
        if row is not None:
            return row
    model = _OWNED.get(prefix or "")
    if model is not None:
        filters = scope.filters()
        if model is PaymentMethod:
            filters["removed_at__isnull"] = True
        row = await model.get_or_none(id=node_id, **filters)
        if row is not None:
            return row
    raise NotFound("object")
