"""Billing for both audiences: the merchant's products, subscriptions and payments, and the
customer's own subscriptions, cards and invoices."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from models import Invoice, PaymentMethod, Product, Subscription, SubscriptionStatus
from resolvers.context import Context
from services.billing import (
    dunning,
    invoices,
    one_time,
    payment_methods,
    products,
    renewals,
    subscriptions,
)
from services.billing.charging import BillingResult
from services.billing.payment_methods import card_from_input
from services.billing.subscriptions import CancellationReason
from services.pagination import Page
from services.payments.cards import CardDetails
from services.scope import Scope
from services.sql import Row


def _card(ctx: Context, card: Any) -> CardDetails | None:
    if card is None:
        return None
    scope = ctx.principal.scope()
    return card_from_input(scope.mode, card.number, card.exp_month, card.exp_year, card.cvc)


def _customer_of(scope: Scope) -> str:
    assert scope.customer_id is not None
    return scope.customer_id


# Merchant


async def create_product(ctx: Context, **fields: Any) -> Product:
    return await products.create_product(ctx.require_merchant(), **fields)


async def list_products(ctx: Context, first: int | None, after: str | None) -> Page[Product]:
    return await products.list_products(ctx.require_merchant(), first, after)


async def subscription(ctx: Context, subscription_id: str) -> Subscription:
    return await subscriptions.get_subscription(ctx.require_any(), subscription_id)


async def create_subscription(
    ctx: Context,
    *,
    customer_id: str,
    product_id: str,
    payment_method_id: str | None,
    card: Any,
    idempotency_key: str | None,
) -> BillingResult:
    scope = ctx.require_merchant()
    return await subscriptions.create_subscription(
        ctx.settings,
        scope,
        ctx.caller_id,
        customer_id=customer_id,
        product_id=product_id,
        payment_method_id=payment_method_id,
        card=_card(ctx, card),
        idempotency_key=idempotency_key,
    )


async def create_payment(
    ctx: Context,
    *,
    customer_id: str,
    product_id: str,
    payment_method_id: str | None,
    card: Any,
    idempotency_key: str | None,
) -> BillingResult:
    scope = ctx.require_merchant()
    return await one_time.create_payment(
        ctx.settings,
        scope,
        ctx.caller_id,
        customer_id=customer_id,
        product_id=product_id,
        payment_method_id=payment_method_id,
        card=_card(ctx, card),
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
        ctx.require_merchant(),
        subscription_id,
        next_billing_date=next_billing_date,
        cancel_at_next_billing_date=cancel_at_next_billing_date,
    )


async def run_billing_cycle(ctx: Context) -> renewals.RenewalSummary:
    return await renewals.renew_due_subscriptions(ctx.settings, ctx.require_merchant())


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
        ctx.require_any(), customer_id, first, after, status, related
    )


async def customer_invoices(
    ctx: Context,
    customer_id: str,
    first: int | None,
    after: str | None,
    related: Collection[str] = (),
) -> Page[Row]:
    return await invoices.list_invoices(ctx.require_any(), customer_id, first, after, related)


async def customer_payments(
    ctx: Context,
    customer_id: str,
    first: int | None,
    after: str | None,
    related: Collection[str] = (),
) -> Page[Row]:
    return await one_time.list_payments(ctx.require_any(), customer_id, first, after, related)


async def customer_payment_methods(ctx: Context, customer_id: str) -> list[Row]:
    ctx.require_any()
    return await ctx.loaders.payment_methods_of.load(customer_id)


# Customer (portal session)


async def add_payment_method(ctx: Context, card: Any) -> PaymentMethod:
    scope = ctx.require_customer()
    details = _card(ctx, card)
    assert details is not None
    return await payment_methods.add_payment_method(scope, _customer_of(scope), details)


async def remove_payment_method(ctx: Context, method_id: str) -> PaymentMethod:
    scope = ctx.require_customer()
    return await payment_methods.remove_payment_method(scope, _customer_of(scope), method_id)


async def update_payment_method(
    ctx: Context,
    *,
    subscription_id: str,
    payment_method_id: str | None,
    card: Any,
    idempotency_key: str | None,
) -> BillingResult:
    scope = ctx.require_customer()
    return await dunning.update_payment_method(
        ctx.settings,
        scope,
        ctx.caller_id,
        subscription_id=subscription_id,
        payment_method_id=payment_method_id,
        card=_card(ctx, card),
        idempotency_key=idempotency_key,
    )


async def cancel_subscription(
    ctx: Context,
    subscription_id: str,
    *,
    at_period_end: bool,
    reason: CancellationReason | None,
    comment: str | None,
) -> Subscription:
    return await subscriptions.cancel_subscription(
        ctx.settings,
        ctx.require_customer(),
        subscription_id,
        at_period_end=at_period_end,
        reason=reason,
        comment=comment,
    )


async def undo_cancellation(ctx: Context, subscription_id: str) -> Subscription:
    return await subscriptions.undo_cancellation(ctx.require_customer(), subscription_id)


async def invoice_for_pdf(ctx: Context, invoice_id: str) -> Invoice:
    return await invoices.get_invoice(ctx.require_any(), invoice_id)
