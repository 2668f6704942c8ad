"""Portal settings and the subscription changes they govern: pausing, resuming, restarting."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import billing as resolve_billing
from resolvers import portal_settings as resolve
from resolvers.context import Context
from schema.billing import CardInput, _billing_views, _id
from schema.billing_types import Invoice, NextAction, Payment, Subscription
from schema.errors import UserError, payload
from schema.merchant import given
from schema.permissions import CUSTOMER, MERCHANT, SIGNED_IN
from schema.portal_settings_types import SWITCH_NAMES, CustomerCancellation, PortalSettings


@strawberry.input(description="Changes to the portal settings: omitted fields stay as they are.")
class UpdatePortalSettingsInput:
    customer_cancellation: CustomerCancellation | None = strawberry.field(
        default=strawberry.UNSET, description="Whether and when customers may cancel."
    )
    customers_may_pause: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Customers may pause."
    )
    customers_may_change_plan: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Customers may change plans."
    )
    customers_may_update_payment_methods: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Customers may add, remove and replace cards."
    )
    customers_may_edit_profile: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Customers may edit their details."
    )
    customers_may_see_invoices: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Customers see their invoices."
    )
    customers_may_restart: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Customers may restart ended subscriptions."
    )
    multiple_subscriptions_per_product: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="A customer may hold several running subscriptions to one product.",
    )


@strawberry.type(description="The result of updatePortalSettings.")
class UpdatePortalSettingsPayload:
    portal_settings: PortalSettings | None = strawberry.field(
        description="The settings as they are now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_INPUT (a setting given as null)."
    )


@strawberry.input(description="Which subscription to pause, when, and until when.")
class PauseSubscriptionInput:
    subscription_id: strawberry.ID = strawberry.field(description="An ACTIVE subscription.")
    at_period_end: bool = strawberry.field(
        default=False,
        description="True: it pauses at its next billing date instead of renewing; false: now.",
    )
    resume_at: datetime | None = strawberry.field(
        default=None,
        description="When it resumes by itself (in the future, after the period end when "
        "atPeriodEnd); null: when resumed. ISO 8601 with time zone.",
    )


@strawberry.type(description="The result of pauseSubscription.")
class PauseSubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND, INVALID_STATE, INVALID_DATE, BAD_USER_INPUT, "
        "NOT_ALLOWED_BY_BUSINESS."
    )


@strawberry.input(description="Which subscription to resume, and when.")
class ResumeSubscriptionInput:
    subscription_id: strawberry.ID = strawberry.field(
        description="A PAUSED subscription, or one set to pause at its period end."
    )
    resume_at: datetime | None = strawberry.field(
        default=None,
        description="A future date to resume on; null: now. ISO 8601 with time zone.",
    )


@strawberry.type(description="The result of resumeSubscription.")
class ResumeSubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it is now (after the charge for a new period, when "
        "its paid period was over); null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND, INVALID_STATE, INVALID_DATE, BAD_USER_INPUT."
    )


@strawberry.input(description="The ended subscription to restart and the card to pay with.")
class RestartSubscriptionInput:
    subscription_id: strawberry.ID = strawberry.field(
        description="A CANCELLED or EXPIRED subscription of the customer."
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="A saved card (pm_…); or give card / gatewayPaymentMethodId."
    )
    card: CardInput | None = strawberry.field(
        default=None, description="A new card (test mode); saved when the charge succeeds."
    )
    gateway_payment_method_id: str | None = strawberry.field(
        default=None, description="A new card made by the processor's Stripe.js."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retry with the same key and input answers the first result, charging once.",
    )


@strawberry.type(description="The result of restartSubscription.")
class RestartSubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="The new subscription (ACTIVE when paid, FAILED when declined)."
    )
    payment: Payment | None = strawberry.field(description="The first period's payment.")
    invoice: Invoice | None = strawberry.field(description="The first period's invoice.")
    next_action: NextAction | None = strawberry.field(
        description="Set when the bank wants the customer to authenticate the payment."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND, INVALID_STATE (not CANCELLED or EXPIRED), INVALID_PRODUCT, "
        "NOT_ALLOWED_BY_BUSINESS, INVALID_INPUT, a decline code (e.g. CARD_DECLINED), "
        "IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE."
    )


@strawberry.type
class PortalSettingsMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: what customers may do in the portal, for the key's mode. "
        "userErrors: INVALID_INPUT.",
    )
    async def update_portal_settings(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdatePortalSettingsInput, strawberry.argument(description="The changes.")
        ],
    ) -> UpdatePortalSettingsPayload:
        changes = {SWITCH_NAMES[name]: value for name, value in given(input, *SWITCH_NAMES).items()}
        return await payload(
            info,
            UpdatePortalSettingsPayload,
            lambda: resolve.update_portal_settings(info.context, changes),
            portal_settings=PortalSettings.of,
        )

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="Merchant, or the customer when the business allows pauses: pauses an "
        "ACTIVE subscription now or at its period end. No renewals while PAUSED; the paid "
        "period is kept (see the README). userErrors: NOT_FOUND, INVALID_STATE, INVALID_DATE, "
        "BAD_USER_INPUT, NOT_ALLOWED_BY_BUSINESS.",
    )
    async def pause_subscription(
        self,
        info: Info[Context, None],
        input: Annotated[
            PauseSubscriptionInput, strawberry.argument(description="The subscription and when.")
        ],
    ) -> PauseSubscriptionPayload:
        return await payload(
            info,
            PauseSubscriptionPayload,
            lambda: resolve.pause_subscription(
                info.context,
                str(input.subscription_id),
                at_period_end=input.at_period_end,
                resume_at=input.resume_at,
            ),
            subscription=lambda row: Subscription.from_model(row, info.context),
        )

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="Merchant or customer: resumes a PAUSED subscription now or on a date (or "
        "calls off a pause set for the period end). Resumed after its paid period, it starts a "
        "new period at once and is charged for it. userErrors: NOT_FOUND, INVALID_STATE, "
        "INVALID_DATE, BAD_USER_INPUT.",
    )
    async def resume_subscription(
        self,
        info: Info[Context, None],
        input: Annotated[
            ResumeSubscriptionInput, strawberry.argument(description="The subscription and when.")
        ],
    ) -> ResumeSubscriptionPayload:
        return await payload(
            info,
            ResumeSubscriptionPayload,
            lambda: resolve.resume_subscription(
                info.context, str(input.subscription_id), resume_at=input.resume_at
            ),
            subscription=lambda row: Subscription.from_model(row, info.context),
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer, when the business allows it: a new subscription on the product "
        "of a CANCELLED or EXPIRED one, charged at once with a saved or a new card. userErrors: "
        "NOT_FOUND, INVALID_STATE, INVALID_PRODUCT, NOT_ALLOWED_BY_BUSINESS, INVALID_INPUT, "
        "decline codes, IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE.",
    )
    async def restart_subscription(
        self,
        info: Info[Context, None],
        input: Annotated[
            RestartSubscriptionInput,
            strawberry.argument(description="The ended subscription and the card."),
        ],
    ) -> RestartSubscriptionPayload:
        return await payload(
            info,
            RestartSubscriptionPayload,
            lambda: resolve.restart_subscription(
                info.context,
                str(input.subscription_id),
                card=resolve_billing.card_input(
                    _id(input.payment_method_id), input.card, input.gateway_payment_method_id
                ),
                idempotency_key=input.idempotency_key,
            ),
            **_billing_views(info.context),
        )
