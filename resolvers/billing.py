"""Billing for both audiences: the merchant's products, subscriptions and payments, and the
customer's own subscriptions, cards and invoices."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from models import (
    CancellationReason,
    Invoice,
    PaymentMethod,
    Product,
    Subscription,
    SubscriptionStatus,
)
from resolvers.context import Context
from services.billing import (
    dunning,
    invoices,
    one_time,
    payment_methods,
    products,
    renewals,
    settlement,
    subscriptions,
)
from services.billing.charging import BillingResult, CardInput, payment_gateway
from services.billing.invoice_links import signed_pdf_url
from services.billing.payment_methods import SavedOrPending
from services.errors import NotFound, ServiceError
from services.money import format_money_cached
from services.pagination import Page, keyset_page
from services.payments import gateway_config
from services.payments.cards import RawCard
from services.payments.gateway_config import new_card
from services.portal_settings import CustomerAction, portal_settings, require_customer_may_in
from services.scope import Scope
from services.sql import Row


def money_text(amount: int, currency: str, locale: str) -> str:
    """An amount for people, in the client's language (de or en)."""
    return format_money_cached(amount, currency, locale)


def pdf_url(ctx: Context, invoice_id: str) -> str:
    """A link to the invoice's PDF that works without a header for 15 minutes."""
    return signed_pdf_url(ctx.settings, invoice_id)


def card_input(
    payment_method_id: str | None, card: Any, gateway_payment_method_id: str | None
) -> CardInput:
    """What a request says about the card to use; checked by the service against the
    business's gateway (card numbers go to the test simulator only)."""
    raw = None
    if card is not None:
        raw = RawCard(card.number, card.exp_month, card.exp_year, card.cvc)
    return CardInput(payment_method_id, raw, gateway_payment_method_id)


def _customer_of(scope: Scope) -> str:
    assert scope.customer_id is not None
    return scope.customer_id


# Merchant


async def create_product(ctx: Context, **fields: Any) -> Product:
    return await products.create_product(ctx.merchant_scope(), **fields)


async def list_products(ctx: Context, first: int | None, after: str | None) -> Page[Row]:
    return await products.list_products(ctx.merchant_scope(), first, after)


async def subscription(ctx: Context, subscription_id: str) -> Subscription:
    return await subscriptions.get_subscription(ctx.scope(), subscription_id)


async def create_subscription(
    ctx: Context,
    *,
    customer_id: str,
    product_id: str,
    card: CardInput,
    idempotency_key: str | None,
) -> BillingResult:
    scope = ctx.merchant_scope()
    return await subscriptions.create_subscription(
        ctx.settings,
        scope,
        ctx.caller_id,
        customer_id=customer_id,
        product_id=product_id,
        card=card,
        idempotency_key=idempotency_key,
    )


async def create_payment(
    ctx: Context,
    *,
    customer_id: str,
    product_id: str,
    card: CardInput,
    idempotency_key: str | None,
) -> BillingResult:
    scope = ctx.merchant_scope()
    return await one_time.create_payment(
        ctx.settings,
        scope,
        ctx.caller_id,
        customer_id=customer_id,
        product_id=product_id,
        card=card,
        idempotency_key=idempotency_key,
    )


async def update_subscription(
    ctx: Context,
    subscription_id: str,
    *,
    next_billing_date: datetime | None,
    cancel_at_next_billing_date: bool | None,
) -> Subscription:
    return await subscriptions.update_subscription(
        ctx.merchant_scope(),
        subscription_id,
        next_billing_date=next_billing_date,
        cancel_at_next_billing_date=cancel_at_next_billing_date,
    )


async def run_billing_cycle(ctx: Context) -> renewals.RenewalSummary:
    return await renewals.renew_due_subscriptions(ctx.settings, ctx.merchant_scope())


# Either audience: lists of one customer, within the caller's scope


async def customer_subscriptions(
    ctx: Context,
    customer_id: str,
    first: int | None,
    after: str | None,
    status: SubscriptionStatus | None,
    related: Collection[str] = (),
) -> Page[Row]:
    return await subscriptions.list_subscriptions(
        ctx.scope(), customer_id, first, after, status, related, ctx.loaders.page_rows.load
    )


async def customer_invoices(
    ctx: Context,
    customer_id: str,
    first: int | None,
    after: str | None,
    related: Collection[str] = (),
) -> Page[Row]:
    """A customer whose business does not show invoices in the portal sees none."""
    scope = ctx.scope()
    if scope.customer_id is not None and not await customer_may(ctx, CustomerAction.VIEW_INVOICES):
        return await keyset_page(None, first, after)
    return await invoices.list_invoices(
        scope, customer_id, first, after, related, ctx.loaders.page_rows.load
    )


async def customer_payments(
    ctx: Context,
    customer_id: str,
    first: int | None,
    after: str | None,
    related: Collection[str] = (),
) -> Page[Row]:
    return await one_time.list_payments(
        ctx.scope(), customer_id, first, after, related, ctx.loaders.page_rows.load
    )


async def customer_payment_methods(ctx: Context, customer_id: str) -> list[Row]:
    ctx.scope()
    return await ctx.loaders.payment_methods_of.load(customer_id)


# Customer (portal session)


async def customer_may(ctx: Context, action: CustomerAction) -> bool:
    """For reads: whether the caller may see what `action` governs (merchant keys always)."""
    scope = ctx.scope()
    if scope.customer_id is None:
        return True
    return (await portal_settings(scope.business_id, scope.mode)).allows(action)


async def add_payment_method(ctx: Context, card: CardInput) -> SavedOrPending:
    scope = ctx.customer_scope()
    await require_customer_may_in(scope, CustomerAction.UPDATE_PAYMENT_METHOD)
    if card.payment_method_id is not None or card.given != 1:
        raise ServiceError(
            "Give either card or gatewayPaymentMethodId.", code="INVALID_INPUT", field=["card"]
        )
    gateway = await payment_gateway(ctx.settings, scope, card)
    new = new_card(gateway, card.card, card.gateway_payment_method_id)
    return await payment_methods.add_payment_method(gateway, scope, ctx.customer_id, new)


async def start_card_setup(ctx: Context) -> str:
    scope = ctx.customer_scope()
    gateway = await gateway_config.gateway_for(ctx.settings, scope)
    return await payment_methods.start_card_setup(gateway, scope, ctx.customer_id)


async def remove_payment_method(ctx: Context, method_id: str) -> PaymentMethod:
    scope = ctx.customer_scope()
    await require_customer_may_in(scope, CustomerAction.UPDATE_PAYMENT_METHOD)
    return await payment_methods.remove_payment_method(scope, _customer_of(scope), method_id)


async def update_payment_method(
    ctx: Context,
    *,
    subscription_id: str,
    card: CardInput,
    idempotency_key: str | None,
) -> BillingResult:
    scope = ctx.customer_scope()
    # Paying what an ON_HOLD subscription owes is never refused; replacing the card of a
    # running one is, when the business says so.
    current = await subscriptions.get_subscription(scope, subscription_id)
    if current.status != SubscriptionStatus.ON_HOLD:
        await require_customer_may_in(scope, CustomerAction.UPDATE_PAYMENT_METHOD)
    return await dunning.update_payment_method(
        ctx.settings,
        scope,
        ctx.caller_id,
        subscription_id=subscription_id,
        card=card,
        idempotency_key=idempotency_key,
    )


async def confirm_payment(ctx: Context, payment_id: str) -> BillingResult:
    """For the payment's customer (their own) or the business's key: asks the gateway what
    became of the payment and settles it."""
    return await settlement.confirm_payment(ctx.settings, ctx.scope(), payment_id)


async def next_action_secret(ctx: Context, payment_id: str) -> str | None:
    """What the customer's browser needs to authenticate a payment that waits for it."""
    return await settlement.client_secret_of(ctx.settings, ctx.scope(), payment_id)


async def publishable_key(ctx: Context) -> str | None:
    info = await gateway_config.gateway_info(ctx.scope())
    return info.publishable_key if info else None


async def cancel_subscription(
    ctx: Context,
    subscription_id: str,
    *,
    at_period_end: bool,
    reason: CancellationReason | None,
    comment: str | None,
) -> Subscription:
    scope = ctx.customer_scope()
    await require_customer_may_in(
        scope, CustomerAction.CANCEL_AT_PERIOD_END if at_period_end else CustomerAction.CANCEL_NOW
    )
    return await subscriptions.cancel_subscription(
        ctx.settings,
        scope,
        subscription_id,
        at_period_end=at_period_end,
        reason=reason,
        comment=comment,
    )


async def undo_cancellation(ctx: Context, subscription_id: str) -> Subscription:
    return await subscriptions.undo_cancellation(ctx.customer_scope(), subscription_id)


async def invoice_for_pdf(ctx: Context, invoice_id: str) -> Invoice:
    scope = ctx.scope()
    if scope.customer_id is not None and not await customer_may(ctx, CustomerAction.VIEW_INVOICES):
        raise NotFound("invoice")
    return await invoices.get_invoice(scope, invoice_id)


async def invoice_of_signed_link(invoice_id: str) -> Invoice | None:
    """The invoice a valid signed PDF link names (the signature is the credential: it names
    exactly this id, checked by the caller)."""
    return await invoices.find_invoice(invoice_id)
