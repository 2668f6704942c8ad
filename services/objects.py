"""Any object by its prefixed id, within the caller's scope: what `node(id:)` resolves. Someone
else's object and a missing one are the same NOT_FOUND."""

from __future__ import annotations

from typing import Any

from tortoise.models import Model

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
from services import customers
from services.businesses import get_business
from services.errors import NotFound
from services.scope import Scope

# Objects a customer may also see when they are their own (the query adds customer_id).
_OWNED: dict[str, type[Model]] = {
    "sub": Subscription,
    "pay": Payment,
    "inv": Invoice,
    "pm": PaymentMethod,
    "lic": LicenseKey,
}
# The merchant's alone: a customer's session never sees them.
_MERCHANTS: dict[str, type[Model]] = {"whk": WebhookEndpoint, "evt": WebhookEvent}


async def find_object(scope: Scope, object_id: str) -> Any:
    """The business, a customer, a product, a billing object, a license key or one of its
    instances, or (for the merchant) a webhook endpoint, event or attempt."""
    if not well_formed(object_id):
        raise NotFound("object")
    prefix = prefix_of(object_id) or ""
    found: Any = None
    if prefix == "bus" and object_id == scope.business_id:
        return await get_business(scope)
    if prefix == "cus":
        return await customers.get_customer(scope, object_id)
    if prefix == "pdt":
        found = await Product.get_or_none(
            id=object_id, business_id=scope.business_id, mode=scope.mode
        )
    elif prefix == "lki":
        owner = {f"license_key__{name}": value for name, value in scope.filters().items()}
        found = await LicenseKeyInstance.get_or_none(id=object_id, **owner)
    elif prefix in _MERCHANTS and scope.customer_id is None:
        found = await _MERCHANTS[prefix].get_or_none(
            id=object_id, business_id=scope.business_id, mode=scope.mode
        )
    elif prefix == "wha" and scope.customer_id is None:
        found = await WebhookAttempt.get_or_none(
            id=object_id, event__business_id=scope.business_id, event__mode=scope.mode
        )
    elif prefix in _OWNED:
        filters = scope.filters()
        if prefix == "pm":
            filters["removed_at__isnull"] = True
        found = await _OWNED[prefix].get_or_none(id=object_id, **filters)
    if found is None:
        raise NotFound("object")
    return found
