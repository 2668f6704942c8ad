"""`node(id:)` and the mapping from models to their types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

import models
from resolvers import nodes as resolve
from resolvers.context import Context
from resolvers.merchant import BusinessProfile
from schema.billing_types import Invoice, Payment, PaymentMethod, Product, Subscription
from schema.customer import Customer
from schema.licensing import LicenseKey, LicenseKeyInstance
from schema.permissions import SIGNED_IN
from schema.types import Business, Node
from schema.webhooks import WebhookAttempt, WebhookEndpoint, WebhookEvent

# Views built from a model alone, and those that also read the request (money's language…).
_VIEWS: dict[type[Any], Any] = {
    models.Customer: Customer,
    models.LicenseKey: LicenseKey,
    models.LicenseKeyInstance: LicenseKeyInstance,
    models.WebhookEndpoint: WebhookEndpoint,
    models.WebhookEvent: WebhookEvent,
    models.WebhookAttempt: WebhookAttempt,
}
_BILLING_VIEWS: dict[type[Any], Any] = {
    models.Product: Product,
    models.Subscription: Subscription,
    models.Payment: Payment,
    models.Invoice: Invoice,
    models.PaymentMethod: PaymentMethod,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="Any object by its id, if the caller may see it (merchant API key or portal "
        "session); someone else's object is NOT_FOUND, like a missing one.",
    )
    async def node(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="A prefixed id, e.g. cus_….")],
    ) -> Node:
        found = await resolve.node(info.context, str(id))
        if isinstance(found, BusinessProfile):
            return Business.from_profile(found)
        kind = type(found)
        if kind in _BILLING_VIEWS:
            return _BILLING_VIEWS[kind].from_model(found, info.context)  # type: ignore[no-any-return]
        if kind in _VIEWS:
            return _VIEWS[kind].from_model(found)  # type: ignore[no-any-return]
        raise TypeError(f"no GraphQL type for {kind.__name__}")
