"""The portal settings' view (shared by Business.portalSettings and updatePortalSettings)."""

from __future__ import annotations

import strawberry

import models
from resolvers.types import PortalSettingsValues

strawberry.enum(
    models.CustomerCancellation,
    description="How customers may cancel in the portal. NOW: at once or at the end of the "
    "period, as they choose. AT_PERIOD_END: only at the end of the paid period. NOT_ALLOWED: "
    "not at all (the merchant cancels for them).",
)
CustomerCancellation = models.CustomerCancellation

# GraphQL field → the setting's name in the services.
SWITCH_NAMES: dict[str, str] = {
    "customer_cancellation": "customer_cancellation",
    "customers_may_pause": "customer_pause",
    "customers_may_change_plan": "customer_change_plan",
    "customers_may_update_payment_methods": "customer_update_payment_methods",
    "customers_may_edit_profile": "customer_edit_profile",
    "customers_may_see_invoices": "customer_view_invoices",
    "customers_may_restart": "customer_restart",
    "multiple_subscriptions_per_product": "multiple_subscriptions_per_product",
}


@strawberry.type(
    description="What the business lets its customers do in the portal, in the caller's mode "
    "(merchant key, and the business's portal sessions). A refused action is a userError "
    "NOT_ALLOWED_BY_BUSINESS and the hosted pages do not offer it. Merchant keys are never "
    "limited by these settings."
)
class PortalSettings:
    customer_cancellation: CustomerCancellation = strawberry.field(
        description="Whether and when customers may cancel (default NOW)."
    )
    customers_may_pause: bool = strawberry.field(
        description="Customers may pause their subscriptions (pauseSubscription; default false)."
        " Resuming is always allowed."
    )
    customers_may_change_plan: bool = strawberry.field(
        description="Customers may switch to another plan (default false)."
    )
    customers_may_update_payment_methods: bool = strawberry.field(
        description="Customers may add, remove and replace cards (default true). Paying what an "
        "ON_HOLD subscription owes is allowed either way."
    )
    customers_may_edit_profile: bool = strawberry.field(
        description="Customers may edit their name, email, phone and billing details (default "
        "true). Their language is always theirs to choose."
    )
    customers_may_see_invoices: bool = strawberry.field(
        description="Customers see their invoices and download them (default true); off, their "
        "invoice lists are empty."
    )
    customers_may_restart: bool = strawberry.field(
        description="Customers may restart a CANCELLED or EXPIRED subscription "
        "(restartSubscription; default false)."
    )
    multiple_subscriptions_per_product: bool = strawberry.field(
        description="A customer may hold more than one running subscription to the same product "
        "(default true); off, a restart is refused while one runs."
    )

    @classmethod
    def of(cls, values: PortalSettingsValues) -> PortalSettings:
        return cls(**{field: getattr(values, name) for field, name in SWITCH_NAMES.items()})
