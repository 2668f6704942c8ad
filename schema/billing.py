"""Billing operations: products, subscriptions, payments, cards, cancellation, renewals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

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


def idempotency_key_field() -> Any:
    """The idempotencyKey input field of the mutations that charge or save a card."""
    return strawberry.field(
        default=None,
        description="1 to 255 characters, kept 24 hours per business, mode and caller: the "
        "same key with the same input answers the first result again; with other input, "
        "IDEMPOTENCY_KEY_REUSED.",
    )


def gateway_payment_method_field() -> Any:
    """The gatewayPaymentMethodId input field: a card for a business on Stripe."""
    return strawberry.field(
        default=None,
        description="A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's "
        "publishable key; for a business whose gateway is Stripe, instead of card.",
    )


@strawberry.input(description="Test mode only: live mode takes a processor's token instead.")
class CardInput:
    number: str = strawberry.field(
        description="12 to 19 digits (spaces and hyphens are ignored), passing the Luhn check. "
        "Never stored, logged or echoed."
    )
    exp_month: int = strawberry.field(description="Expiry month, 1 to 12.")
    exp_year: int = strawberry.field(description="Expiry year: four digits, or two for 20xx.")
    cvc: str = strawberry.field(
        description="3 digits (4 for American Express). Never stored or logged."
    )


@strawberry.input(description="The payment to settle.")
class ConfirmPaymentInput:
    payment_id: strawberry.ID = strawberry.field(description="The payment (pay_…).")


@strawberry.type(description="The result of confirmPayment.")
class ConfirmPaymentPayload:
    payment: Payment | None = strawberry.field(
        description="The payment as it is now; null when it was not found."
    )
    subscription: Subscription | None = strawberry.field(
        description="The subscription it pays for, as it is now; null for a one-time purchase."
    )
    invoice: Invoice | None = strawberry.field(description="The invoice it pays, as it is now.")
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError] = strawberry.field(
        description="See confirmPayment for the codes; a FAILED payment's decline code is here."
    )


@strawberry.input(description="An amount of money.")
class MoneyInput:
    amount: int = strawberry.field(description="In the currency's minor unit.")
    currency: str = strawberry.field(description="ISO 4217, e.g. EUR.")


@strawberry.input(description="A new product, one-time or recurring.")
class CreateProductInput:
    name: str = strawberry.field(description="At most 200 characters, not empty.")
    price: MoneyInput = strawberry.field(
        description="Per purchase, or per billing period: a positive amount."
    )
    description: str | None = strawberry.field(
        default=None, description="Free text; cut at 5000 characters."
    )
    interval: TimeInterval | None = strawberry.field(
        default=None, description="Set for a subscription product; omit for a one-time product."
    )
    interval_count: int | None = strawberry.field(
        default=None,
        description="Periods of interval per billing period, 1 to 365; omitted: 1. Only with "
        "interval.",
    )
    license_key_enabled: bool = strawberry.field(
        default=False, description="Each purchase issues a license key."
    )
    license_key_activations_limit: int | None = strawberry.field(
        default=None,
        description="Devices per issued key, 1 to 100000; omitted: unlimited. Kept only with "
        "licenseKeyEnabled.",
    )
    license_key_duration_days: int | None = strawberry.field(
        default=None,
        description="Days an issued key is valid, 1 to 100000; omitted: no end of its own.",
    )
    tax_category: models.TaxCategory = strawberry.field(
        default=models.TaxCategory.STANDARD,
        description="For the VAT on its invoices (once the business has legal details).",
    )


@strawberry.type(description="The result of createProduct.")
class CreateProductPayload:
    product: Product | None = strawberry.field(description="The new product; null on failure.")
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_NAME, TOO_LONG (name), INVALID_AMOUNT, INVALID_CURRENCY, "
        "INVALID_INTERVAL, INVALID_LICENSE_SETTINGS."
    )


@strawberry.input(
    description="A new subscription. Give exactly one of paymentMethodId, card and "
    "gatewayPaymentMethodId."
)
class CreateSubscriptionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer (cus_…).")
    product_id: strawberry.ID = strawberry.field(description="A recurring product (pdt_…).")
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the customer's saved cards (pm_…)."
    )
    card: CardInput | None = strawberry.field(
        default=None,
        description="A new card (the test simulator only); saved for renewals when the charge "
        "succeeds.",
    )
    gateway_payment_method_id: str | None = gateway_payment_method_field()
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="The result of createSubscription.")
class CreateSubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="ACTIVE when the first period was paid, PENDING while the payment waits "
        "(nextAction), FAILED when it was declined; null when nothing was made."
    )
    payment: Payment | None = strawberry.field(description="The first period's payment.")
    invoice: Invoice | None = strawberry.field(
        description="The first period's invoice: PAID, OPEN while the payment waits, or VOID "
        "when it failed."
    )
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError] = strawberry.field(
        description="See createSubscription for the codes; a decline's code is here beside "
        "the FAILED subscription and payment."
    )


@strawberry.input(
    description="A one-time purchase. Give exactly one of paymentMethodId, card and "
    "gatewayPaymentMethodId."
)
class CreatePaymentInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer (cus_…).")
    product_id: strawberry.ID = strawberry.field(description="A one-time product (pdt_…).")
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the customer's saved cards (pm_…)."
    )
    card: CardInput | None = strawberry.field(
        default=None,
        description="A new card (the test simulator only); saved when the charge succeeds.",
    )
    gateway_payment_method_id: str | None = gateway_payment_method_field()
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="The result of createPayment.")
class CreatePaymentPayload:
    payment: Payment | None = strawberry.field(
        description="The payment: SUCCEEDED, FAILED, REQUIRES_ACTION (nextAction) or "
        "PROCESSING; null when nothing was charged."
    )
    invoice: Invoice | None = strawberry.field(
        description="Its invoice: PAID, OPEN while the payment waits, or VOID when it failed."
    )
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError] = strawberry.field(
        description="See createPayment for the codes; a decline's code is here beside the "
        "FAILED payment."
    )


@strawberry.input(description="Changes to a subscription; omitted fields stay as they are.")
class UpdateSubscriptionInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription (sub_…).")
    next_billing_date: datetime | None = strawberry.field(
        default=None, description="Test mode may move it into the past to force a renewal."
    )
    cancel_at_next_billing_date: bool | None = strawberry.field(
        default=None,
        description="true: end at nextBillingDate instead of renewing (ACTIVE only); false: "
        "renew again.",
    )


@strawberry.type(description="The result of updateSubscription.")
class UpdateSubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND, INVALID_STATE, BAD_USER_INPUT (a date without a time zone), "
        "INVALID_DATE (a past date in live mode), PAYMENT_IN_PROGRESS."
    )


@strawberry.type(description="The result of runBillingCycle.")
class RunBillingCyclePayload:
    renewed_count: int = strawberry.field(description="Renewals charged successfully.")
    failed_count: int = strawberry.field(
        description="Renewals whose charge failed: now ON_HOLD with an OPEN invoice."
    )
    ended_count: int = strawberry.field(description="Ended at their period end, not charged.")
    user_errors: list[UserError] = strawberry.field(
        description="Empty: failed renewals are counted, not reported here."
    )


@strawberry.input(
    description="A card to save. Give card (test simulator) or gatewayPaymentMethodId (Stripe)."
)
class AddPaymentMethodInput:
    card: CardInput | None = strawberry.field(
        default=None, description="A new card (the test simulator only)."
    )
    gateway_payment_method_id: str | None = gateway_payment_method_field()


@strawberry.type(description="The result of addPaymentMethod.")
class AddPaymentMethodPayload:
    payment_method: PaymentMethod | None = strawberry.field(
        description="The saved card; null on failure or while the bank wants authentication "
        "(nextAction)."
    )
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError] = strawberry.field(
        description="See addPaymentMethod for the codes."
    )


@strawberry.type(
    description="A card about to be saved through Stripe.js (a SetupIntent not yet confirmed)."
)
class CardSetup:
    client_secret: str = strawberry.field(
        description="For Stripe.js: confirmCardSetup(clientSecret, {payment_method: {card: "
        "cardElement}}) makes the PaymentMethod (and runs 3-D Secure when the bank asks); "
        "give its id as gatewayPaymentMethodId. Never stored by us."
    )
    publishable_key: str = strawberry.field(
        description="The business's Stripe publishable key, for Stripe(publishableKey)."
    )


@strawberry.type(description="The result of startCardSetup.")
class StartCardSetupPayload:
    card_setup: CardSetup | None = strawberry.field(description="Null on failure.")
    user_errors: list[UserError] = strawberry.field(description="See startCardSetup for the codes.")


@strawberry.input(description="A saved card to remove.")
class RemovePaymentMethodInput:
    payment_method_id: strawberry.ID = strawberry.field(description="The card (pm_…).")


@strawberry.type(description="The result of removePaymentMethod.")
class RemovePaymentMethodPayload:
    payment_method: PaymentMethod | None = strawberry.field(
        description="The card as it was before it was removed; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND; PAYMENT_METHOD_IN_USE while a subscription that is not over "
        "pays with it."
    )


@strawberry.input(
    description="A subscription's new card. Give exactly one of paymentMethodId, card and "
    "gatewayPaymentMethodId."
)
class UpdatePaymentMethodInput:
    subscription_id: strawberry.ID = strawberry.field(
        description="The customer's subscription (sub_…), ACTIVE or ON_HOLD."
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="A saved card; or give `card`."
    )
    card: CardInput | None = strawberry.field(
        default=None,
        description="A new card (the test simulator only): the subscription's card once its "
        "payment succeeds, or at once when nothing is owed.",
    )
    gateway_payment_method_id: str | None = gateway_payment_method_field()
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="The result of updatePaymentMethod.")
class UpdatePaymentMethodPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it is now; null when it was not found."
    )
    payment: Payment | None = strawberry.field(description="Set when what was owed was charged.")
    invoice: Invoice | None = strawberry.field(
        description="The newest invoice that was owed: PAID on success, still OPEN otherwise; "
        "null when nothing was owed."
    )
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment (or call the same mutation again).",
    )
    user_errors: list[UserError] = strawberry.field(
        description="See updatePaymentMethod for the codes; a decline's code is here beside "
        "the FAILED payment."
    )


@strawberry.input(description="A subscription to cancel.")
class CancelSubscriptionInput:
    subscription_id: strawberry.ID = strawberry.field(
        description="The customer's subscription (sub_…)."
    )
    at_period_end: bool = strawberry.field(
        default=False, description="End at the next billing date instead of now."
    )
    reason: CancellationReason | None = strawberry.field(
        default=None, description="Why, when the customer says."
    )
    comment: str | None = strawberry.field(
        default=None, description="The customer's words; cut at 2000 characters."
    )


@strawberry.type(description="The result of cancelSubscription.")
class CancelSubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND; INVALID_STATE when it cannot be cancelled now (already ended, "
        "or a payment for it is under way)."
    )


@strawberry.input(description="A subscription to keep.")
class UndoCancellationInput:
    subscription_id: strawberry.ID = strawberry.field(
        description="The customer's subscription (sub_…), set to end at its period end."
    )


@strawberry.type(description="The result of undoCancellation.")
class UndoCancellationPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND; INVALID_STATE unless it is ACTIVE and set to end."
    )


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
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
    ) -> Connection[Product]:
        page = await resolve.list_products(info.context, first, after)
        return connection(page, [Product.from_row(row, info.context) for row in page.rows])

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="One subscription (merchant: any of the business's; customer: own).",
    )
    async def subscription(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="Its id (sub_…).")],
    ) -> Subscription:
        return Subscription.from_model(
            await resolve.subscription(info.context, str(id)), info.context
        )


@strawberry.type
class BillingMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: a product, one-time or recurring, in the key's mode. userErrors: "
        "INVALID_NAME, TOO_LONG, INVALID_AMOUNT, INVALID_CURRENCY, INVALID_INTERVAL, "
        "INVALID_LICENSE_SETTINGS.",
    )
    async def create_product(
        self,
        info: Info[Context, None],
        input: Annotated[CreateProductInput, strawberry.argument(description="The product.")],
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
        description="Merchant: subscribes a customer and charges the first period at once: "
        "ACTIVE with a PAID invoice, or FAILED with the decline in userErrors. userErrors: "
        "NOT_FOUND, INVALID_PRODUCT (a one-time product), INVALID_INPUT (not exactly one way to "
        "pay), "
        "INVALID_CARD_NUMBER, INVALID_EXPIRY, EXPIRED_CARD, INCORRECT_CVC (a card given inline), "
        "CARD_DECLINED, INSUFFICIENT_FUNDS, PROCESSING_ERROR, AUTHENTICATION_FAILED (or another "
        "decline), CARD_DATA_NOT_ACCEPTED, GATEWAY_NOT_CONFIGURED, LIVE_PAYMENTS_NOT_CONFIGURED, "
        "GATEWAY_UNAVAILABLE, "
        "INVALID_IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE.",
    )
    async def create_subscription(
        self,
        info: Info[Context, None],
        input: Annotated[
            CreateSubscriptionInput,
            strawberry.argument(description="The customer, the product and how to pay."),
        ],
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
        description="Merchant: charges a customer for a one-time product: SUCCEEDED with a PAID "
        "invoice, or FAILED with the decline in userErrors. userErrors: NOT_FOUND, "
        "INVALID_PRODUCT (a recurring product), INVALID_INPUT (not exactly one way to pay), "
        "INVALID_CARD_NUMBER, INVALID_EXPIRY, EXPIRED_CARD, INCORRECT_CVC (a card given inline), "
        "CARD_DECLINED, INSUFFICIENT_FUNDS, PROCESSING_ERROR, AUTHENTICATION_FAILED (or another "
        "decline), CARD_DATA_NOT_ACCEPTED, GATEWAY_NOT_CONFIGURED, LIVE_PAYMENTS_NOT_CONFIGURED, "
        "GATEWAY_UNAVAILABLE, "
        "INVALID_IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE.",
    )
    async def create_payment(
        self,
        info: Info[Context, None],
        input: Annotated[
            CreatePaymentInput,
            strawberry.argument(description="The customer, the product and how to pay."),
        ],
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
        description="Merchant: moves the next billing date (test mode may move it into the past "
        "to force a renewal), or ends at period end. userErrors: NOT_FOUND, INVALID_STATE, "
        "BAD_USER_INPUT, INVALID_DATE, PAYMENT_IN_PROGRESS.",
    )
    async def update_subscription(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateSubscriptionInput,
            strawberry.argument(description="The subscription and the changes."),
        ],
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
        description="Merchant: processes every renewal of the key's business and mode that is "
        "due now. Success renews and invoices; failure leaves an OPEN invoice and ON_HOLD. Its "
        "userErrors are always empty.",
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
        description="Customer: saves a card (checked like a zero-amount authorization). "
        "userErrors: INVALID_INPUT (not exactly one card), NOT_FOUND (an unknown "
        "gatewayPaymentMethodId or setup), "
        "INVALID_CARD_NUMBER, INVALID_EXPIRY, EXPIRED_CARD, INCORRECT_CVC (a card given inline), "
        "CARD_DECLINED, INSUFFICIENT_FUNDS, PROCESSING_ERROR, AUTHENTICATION_FAILED (or another "
        "decline), CARD_DATA_NOT_ACCEPTED, GATEWAY_NOT_CONFIGURED, LIVE_PAYMENTS_NOT_CONFIGURED, "
        "GATEWAY_UNAVAILABLE.",
    )
    async def add_payment_method(
        self,
        info: Info[Context, None],
        input: Annotated[AddPaymentMethodInput, strawberry.argument(description="The card.")],
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
        description="Customer, for a business on Stripe: starts saving a card typed into "
        "Stripe.js's own fields (Stripe has no card number for us to see). userErrors: "
        "GATEWAY_NOT_CONFIGURED (the test simulator), LIVE_PAYMENTS_NOT_CONFIGURED, "
        "GATEWAY_UNAVAILABLE.",
    )
    async def start_card_setup(self, info: Info[Context, None]) -> StartCardSetupPayload:
        async def card_setup(secret: str) -> CardSetup | None:
            key = await resolve.publishable_key(info.context)
            return CardSetup(client_secret=secret, publishable_key=key) if key else None

        return await payload(
            info,
            StartCardSetupPayload,
            lambda: resolve.start_card_setup(info.context),
            card_setup=card_setup,
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: removes a saved card no active subscription uses. userErrors: "
        "NOT_FOUND, PAYMENT_METHOD_IN_USE.",
    )
    async def remove_payment_method(
        self,
        info: Info[Context, None],
        input: Annotated[RemovePaymentMethodInput, strawberry.argument(description="The card.")],
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
        "ON_HOLD: what is owed is charged; on success the subscription is ACTIVE again. "
        "userErrors: NOT_FOUND, INVALID_STATE (neither ACTIVE nor ON_HOLD), PAYMENT_IN_PROGRESS, "
        "INVALID_INPUT (not exactly one card), "
        "INVALID_CARD_NUMBER, INVALID_EXPIRY, EXPIRED_CARD, INCORRECT_CVC (a card given inline), "
        "CARD_DECLINED, INSUFFICIENT_FUNDS, PROCESSING_ERROR, AUTHENTICATION_FAILED (or another "
        "decline), CARD_DATA_NOT_ACCEPTED, GATEWAY_NOT_CONFIGURED, LIVE_PAYMENTS_NOT_CONFIGURED, "
        "GATEWAY_UNAVAILABLE, "
        "INVALID_IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE.",
    )
    async def update_payment_method(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdatePaymentMethodInput,
            strawberry.argument(description="The subscription and its new card."),
        ],
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
        "already settled is answered as it is. userErrors: NOT_FOUND, GATEWAY_UNAVAILABLE, "
        "LIVE_PAYMENTS_NOT_CONFIGURED, and a FAILED payment's decline code (e.g. CARD_DECLINED, "
        "AUTHENTICATION_FAILED).",
    )
    async def confirm_payment(
        self,
        info: Info[Context, None],
        input: Annotated[ConfirmPaymentInput, strawberry.argument(description="The payment.")],
    ) -> ConfirmPaymentPayload:
        return await payload(
            info,
            ConfirmPaymentPayload,
            lambda: resolve.confirm_payment(info.context, str(input.payment_id)),
            **_billing_views(info.context),
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: cancels now (CANCELLED; an ON_HOLD subscription's OPEN invoices "
        "are voided), or at the end of the period (cancelAtNextBillingDate). userErrors: "
        "NOT_FOUND, INVALID_STATE.",
    )
    async def cancel_subscription(
        self,
        info: Info[Context, None],
        input: Annotated[
            CancelSubscriptionInput,
            strawberry.argument(description="The subscription, when, and why."),
        ],
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
        description="Customer: keeps a subscription that was set to end at its period end. "
        "userErrors: NOT_FOUND, INVALID_STATE.",
    )
    async def undo_cancellation(
        self,
        info: Info[Context, None],
        input: Annotated[
            UndoCancellationInput, strawberry.argument(description="The subscription.")
        ],
    ) -> UndoCancellationPayload:
        return await payload(
            info,
            UndoCancellationPayload,
            lambda: resolve.undo_cancellation(info.context, str(input.subscription_id)),
            subscription=lambda row: Subscription.from_model(row, info.context),
        )
