"""`node(id:)` and the mapping from models to their types."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

import models
from resolvers import nodes as resolve
from resolvers.context import Context
from schema.billing_types import Invoice, Payment, PaymentMethod, Product, Subscription
from schema.customer import Customer
from schema.licensing import LicenseKey, LicenseKeyInstance
from schema.merchant import business_view
from schema.types import Node
from schema.webhooks import WebhookAttempt, WebhookEndpoint, WebhookEvent


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its id, if the caller may see it.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node:
        row = await resolve.node(info.context, str(id))
        if isinstance(row, models.Business):
            return business_view(info, row)
        if isinstance(row, models.Customer):
            return Customer.from_model(row)
        for model, billing_view in (
            (models.Product, Product),
            (models.Subscription, Subscription),
            (models.Payment, Payment),
            (models.Invoice, Invoice),
            (models.PaymentMethod, PaymentMethod),
        ):
            if isinstance(row, model):
                return billing_view.from_model(row, info.context)  # type: ignore[no-any-return]
        for model, view in (
            (models.LicenseKey, LicenseKey),
            (models.LicenseKeyInstance, LicenseKeyInstance),
            (models.WebhookEndpoint, WebhookEndpoint),
            (models.WebhookEvent, WebhookEvent),
            (models.WebhookAttempt, WebhookAttempt),
        ):
            if isinstance(row, model):
                return view.from_model(row)  # type: ignore[attr-defined]
        raise TypeError(f"no GraphQL type for {type(row).__name__}")
