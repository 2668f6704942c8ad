"""Billing operations: products, subscriptions, payments, cards, cancellation, renewals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

import models
from resolvers import billing as resolve
from resolvers.context import Context
from schema.billing_types import (
    CancellationReason,
    Invoice,
    NextAction,
    Payment,
    PaymentMethod,
    Product,
    Subscription,
    TimeInterval,
    next_action,
)
from schema.errors import UserError, payload
from schema.permissions import CUSTOMER, MERCHANT, SIGNED_IN
from schema.types import Connection, connection


@strawberry.input(description="Test mode only: live mode takes a processor's token instead.")
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@strawberry.input
class ConfirmPaymentInput:
    payment_id: strawberry.ID


@strawberry.type
class ConfirmPaymentPayload:
    payment: Payment | None
    subscription: Subscription | None
    invoice: Invoice | None
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError]


@strawberry.input
class MoneyInput:
    amount: int = strawberry.field(description="In the currency's minor unit.")
    currency: str = strawberry.field(description="ISO 4217, e.g. EUR.")


@strawberry.input
class CreateProductInput:
    name: str
    price: MoneyInput
    description: str | None = None
    interval: TimeInterval | None = strawberry.field(
        default=None, description="Set for a subscription product; omit for a one-time product."
    )
    interval_count: int | None = None
    license_key_enabled: bool = False
    license_key_activations_limit: int | None = None
    license_key_duration_days: int | None = None
    tax_category: models.TaxCategory = strawberry.field(
        default=models.TaxCategory.STANDARD,
        description="For the VAT on its invoices (once the business has legal details).",
    )


@strawberry.type
class CreateProductPayload:
    product: Product | None
    user_errors: list[UserError]


@strawberry.input
class CreateSubscriptionInput:
    customer_id: strawberry.ID
    product_id: strawberry.ID
    payment_method_id: strawberry.ID | None = None
    card: CardInput | None = None
    gateway_payment_method_id: str | None = strawberry.field(
        default=None,
        description="A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's "
        "publishable key; for a business whose gateway is Stripe, instead of card.",
    )
    idempotency_key: str | None = None


@strawberry.type
class CreateSubscriptionPayload:
    subscription: Subscription | None
    payment: Payment | None
    invoice: Invoice | None
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError]


@strawberry.input
class CreatePaymentInput:
    customer_id: strawberry.ID
    product_id: strawberry.ID
    payment_method_id: strawberry.ID | None = None
    card: CardInput | None = None
    gateway_payment_method_id: str | None = strawberry.field(
        default=None,
        description="A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's "
        "publishable key; for a business whose gateway is Stripe, instead of card.",
    )
    idempotency_key: str | None = None


@strawberry.type
class CreatePaymentPayload:
    payment: Payment | None
    invoice: Invoice | None
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError]


@strawberry.input
class UpdateSubscriptionInput:
    subscription_id: strawberry.ID
    next_billing_date: datetime | None = strawberry.field(
        default=None, description="Test mode may move it into the past to force a renewal."
    )
    cancel_at_next_billing_date: bool | None = None


@strawberry.type
class UpdateSubscriptionPayload:
    subscription: Subscription | None
    user_errors: list[UserError]


@strawberry.type
class RunBillingCyclePayload:
    renewed_count: int
    failed_count: int
    ended_count: int = strawberry.field(description="Ended at their period end, not charged.")
    user_errors: list[UserError]


@strawberry.input
class AddPaymentMethodInput:
    card: CardInput | None = None
    gateway_payment_method_id: str | None = strawberry.field(
        default=None,
        description="A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's "
        "publishable key; for a business whose gateway is Stripe, instead of card.",
    )


@strawberry.type
class AddPaymentMethodPayload:
    payment_method: PaymentMethod | None
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError]


@strawberry.input
class RemovePaymentMethodInput:
    payment_method_id: strawberry.ID


@strawberry.type
class RemovePaymentMethodPayload:
    payment_method: PaymentMethod | None
    user_errors: list[UserError]


@strawberry.input
class UpdatePaymentMethodInput:
    subscription_id: strawberry.ID
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="A saved card; or give `card`."
    )
    card: CardInput | None = None
    gateway_payment_method_id: str | None = strawberry.field(
        default=None,
        description="A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's "
        "publishable key; for a business whose gateway is Stripe, instead of card.",
    )
    idempotency_key: str | None = None


@strawberry.type
class UpdatePaymentMethodPayload:
    subscription: Subscription | None
    payment: Payment | None = strawberry.field(description="Set when what was owed was charged.")
    invoice: Invoice | None
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError]


@strawberry.input
class CancelSubscriptionInput:
    subscription_id: strawberry.ID
    at_period_end: bool = strawberry.field(
        default=False, description="End at the next billing date instead of now."
    )
    reason: CancellationReason | None = None
    comment: str | None = None


@strawberry.type
class CancelSubscriptionPayload:
    subscription: Subscription | None
    user_errors: list[UserError]


@strawberry.input
class UndoCancellationInput:
    subscription_id: strawberry.ID


@strawberry.type
class UndoCancellationPayload:
    subscription: Subscription | None
    user_errors: list[UserError]


def _id(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


def _billing_views(ctx: Context) -> dict[str, Any]:
    """The subscription, payment and invoice of a billing operation's result, and what the
    customer must do next when their bank wants them to authenticate."""
    return {
        "subscription": lambda result: (
            Subscription.from_model(result.subscription, ctx) if result.subscription else None
        ),
        "payment": lambda result: (
            Payment.from_model(result.payment, ctx) if result.payment else None
        ),
        "invoice": lambda result: (
            Invoice.from_model(result.invoice, ctx) if result.invoice else None
        ),
        "next_action": lambda result: _next_action_of(ctx, result),
    }


async def _next_action_of(ctx: Context, result: Any) -> NextAction | None:
    """What the customer's browser must do, also when the result is a replay (an idempotent
    repeat), which does not carry the client secret: it is asked of the processor then."""
    secret = result.client_secret
    payment = result.payment
    if (
        secret is None
        and payment is not None
        and payment.status == models.PaymentStatus.REQUIRES_ACTION
    ):
        secret = await resolve.next_action_secret(ctx, payment.id)
    return await next_action(ctx, secret)


@strawberry.type
class BillingQuery:
    @strawberry.field(permission_classes=MERCHANT, description="Merchant: products, newest first.")
    async def products(
        self, info: Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> Connection[Product]:
        page = await resolve.list_products(info.context, first, after)
        return connection(page, [Product.from_row(row, info.context) for row in page.rows])

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="One subscription (merchant: any of the business's; customer: own).",
    )
    async def subscription(self, info: Info[Context, None], id: strawberry.ID) -> Subscription:
        return Subscription.from_model(
            await resolve.subscription(info.context, str(id)), info.context
        )


@strawberry.type
class BillingMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT, description="Merchant: a product, one-time or recurring."
    )
    async def create_product(
        self, info: Info[Context, None], input: CreateProductInput
    ) -> CreateProductPayload:
        return await payload(
            info,
            CreateProductPayload,
            lambda: resolve.create_product(
                info.context,
                name=input.name,
                description=input.description,
                price_amount=input.price.amount,
                currency=input.price.currency,
                interval=input.interval,
                interval_count=input.interval_count,
                license_key_enabled=input.license_key_enabled,
                license_key_activations_limit=input.license_key_activations_limit,
                license_key_duration_days=input.license_key_duration_days,
                tax_category=input.tax_category,
            ),
            product=lambda row: Product.from_model(row, info.context),
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: subscribes a customer and charges the first period.",
    )
    async def create_subscription(
        self, info: Info[Context, None], input: CreateSubscriptionInput
    ) -> CreateSubscriptionPayload:
        return await payload(
            info,
            CreateSubscriptionPayload,
            lambda: resolve.create_subscription(
                info.context,
                customer_id=str(input.customer_id),
                product_id=str(input.product_id),
                card=resolve.card_input(
                    _id(input.payment_method_id), input.card, input.gateway_payment_method_id
                ),
                idempotency_key=input.idempotency_key,
            ),
            **_billing_views(info.context),
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: charges a customer for a one-time product.",
    )
    async def create_payment(
        self, info: Info[Context, None], input: CreatePaymentInput
    ) -> CreatePaymentPayload:
        views = _billing_views(info.context)
        return await payload(
            info,
            CreatePaymentPayload,
            lambda: resolve.create_payment(
                info.context,
                customer_id=str(input.customer_id),
                product_id=str(input.product_id),
                card=resolve.card_input(
                    _id(input.payment_method_id), input.card, input.gateway_payment_method_id
                ),
                idempotency_key=input.idempotency_key,
            ),
            payment=views["payment"],
            invoice=views["invoice"],
            next_action=views["next_action"],
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: moves the next billing date, or ends at period end.",
    )
    async def update_subscription(
        self, info: Info[Context, None], input: UpdateSubscriptionInput
    ) -> UpdateSubscriptionPayload:
        return await payload(
            info,
            UpdateSubscriptionPayload,
            lambda: resolve.update_subscription(
                info.context,
                str(input.subscription_id),
                next_billing_date=input.next_billing_date,
                cancel_at_next_billing_date=input.cancel_at_next_billing_date,
            ),
            subscription=lambda row: Subscription.from_model(row, info.context),
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: processes every renewal that is due now.",
    )
    async def run_billing_cycle(self, info: Info[Context, None]) -> RunBillingCyclePayload:
        return await payload(
            info,
            RunBillingCyclePayload,
            lambda: resolve.run_billing_cycle(info.context),
            failed={"renewed_count": 0, "failed_count": 0, "ended_count": 0},
            renewed_count=lambda summary: summary.renewed,
            failed_count=lambda summary: summary.failed,
            ended_count=lambda summary: summary.ended,
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: saves a card (checked like a zero-amount authorization).",
    )
    async def add_payment_method(
        self, info: Info[Context, None], input: AddPaymentMethodInput
    ) -> AddPaymentMethodPayload:
        return await payload(
            info,
            AddPaymentMethodPayload,
            lambda: resolve.add_payment_method(
                info.context, resolve.card_input(None, input.card, input.gateway_payment_method_id)
            ),
            payment_method=lambda saved: (
                PaymentMethod.from_model(saved.method, info.context) if saved.method else None
            ),
            next_action=lambda saved: next_action(info.context, saved.client_secret),
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: removes a saved card no active subscription uses.",
    )
    async def remove_payment_method(
        self, info: Info[Context, None], input: RemovePaymentMethodInput
    ) -> RemovePaymentMethodPayload:
        return await payload(
            info,
            RemovePaymentMethodPayload,
            lambda: resolve.remove_payment_method(info.context, str(input.payment_method_id)),
            payment_method=lambda row: PaymentMethod.from_model(row, info.context),
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: replaces a subscription's card. ACTIVE: swapped, nothing charged. "
        "ON_HOLD: what is owed is charged; on success the subscription is ACTIVE again.",
    )
    async def update_payment_method(
        self, info: Info[Context, None], input: UpdatePaymentMethodInput
    ) -> UpdatePaymentMethodPayload:
        return await payload(
            info,
            UpdatePaymentMethodPayload,
            lambda: resolve.update_payment_method(
                info.context,
                subscription_id=str(input.subscription_id),
                card=resolve.card_input(
                    _id(input.payment_method_id), input.card, input.gateway_payment_method_id
                ),
                idempotency_key=input.idempotency_key,
            ),
            **_billing_views(info.context),
        )

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="The payment's customer or the business's key: asks the payment processor "
        "what became of a payment (e.g. back from authenticating it) and settles it. A payment "
        "already settled is answered as it is.",
    )
    async def confirm_payment(
        self, info: Info[Context, None], input: ConfirmPaymentInput
    ) -> ConfirmPaymentPayload:
        return await payload(
            info,
            ConfirmPaymentPayload,
            lambda: resolve.confirm_payment(info.context, str(input.payment_id)),
            **_billing_views(info.context),
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: cancels now, or at the end of the period.",
    )
    async def cancel_subscription(
        self, info: Info[Context, None], input: CancelSubscriptionInput
    ) -> CancelSubscriptionPayload:
        return await payload(
            info,
            CancelSubscriptionPayload,
            lambda: resolve.cancel_subscription(
                info.context,
                str(input.subscription_id),
                at_period_end=input.at_period_end,
                reason=input.reason,
                comment=input.comment,
            ),
            subscription=lambda row: Subscription.from_model(row, info.context),
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: keeps a subscription that was set to end.",
    )
    async def undo_cancellation(
        self, info: Info[Context, None], input: UndoCancellationInput
    ) -> UndoCancellationPayload:
        return await payload(
            info,
            UndoCancellationPayload,
            lambda: resolve.undo_cancellation(info.context, str(input.subscription_id)),
            subscription=lambda row: Subscription.from_model(row, info.context),
        )
