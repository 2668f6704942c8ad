"""The billing emails, written to the outbox inside the transaction of the change."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import mailers
from models import (
    Business,
    Customer,
    Invoice,
    Payment,
    PlanChange,
    PlanChangeStatus,
    Product,
    Refund,
    Subscription,
)
from services.access.links import issue_portal_link
from services.customer_mail import customer_locale, email_customer
from services.money import format_money

if TYPE_CHECKING:
    from services.settings import Settings


async def _parties(customer_id: str) -> tuple[Customer, Business]:
    customer = await Customer.get(id=customer_id)
    business = await Business.get(id=customer.business_id)
    return customer, business


async def send_receipt(
    settings: Settings, payment: Payment, invoice: Invoice, description: str
) -> None:
    customer, business = await _parties(payment.customer_id)
    locale = customer_locale(customer, business)
    await email_customer(
        settings,
        customer,
        business,
        mailers.payment_receipt,
        topic="payment_receipt",
        amount=format_money(payment.amount, payment.currency, locale),
        description=description,
        invoice_number=invoice.number,
        paid_at=invoice.paid_at or payment.created_at,
    )


async def send_credit_note(settings: Settings, refund: Refund, note: Invoice) -> None:
    """A refund went through: the customer is told, with a portal link to the credit note."""
    customer, business = await _parties(refund.customer_id)
    original = await Invoice.get(id=note.credit_note_for_id) if note.credit_note_for_id else None
    link = await issue_portal_link(settings, customer)
    await email_customer(
        settings,
        customer,
        business,
        mailers.credit_note_issued,
        topic="credit_note_issued",
        amount=format_money(refund.amount, refund.currency, customer_locale(customer, business)),
        credit_note_number=note.number,
        invoice_number=original.number if original else "",
        link=link.url,
        expires_at=link.expires_at,
    )


async def send_on_hold(
    settings: Settings,
    subscription: Subscription,
    product: Product,
    amount_due: int,
    *,
    authenticate: bool = False,
    payment_id: str | None = None,
) -> None:
    """The renewal failed (or, with `authenticate`, the bank wants the customer to confirm it):
    an email with a fresh portal link to pay. For a payment to confirm, the link leads from
    signing in straight to the page that confirms it (`next`, see app/portal/access.py)."""
    customer, business = await _parties(subscription.customer_id)
    link = await issue_portal_link(settings, customer)
    url = link.url
    if authenticate and payment_id:
        target = f"/portal/subscriptions/{subscription.id}/authenticate?payment={payment_id}"
        url = f"{url}?{urlencode({'next': target})}"
    compose = (
        mailers.payment_authentication_required if authenticate else mailers.subscription_on_hold
    )
    await email_customer(
        settings,
        customer,
        business,
        compose,
        topic="payment_authentication_required" if authenticate else "subscription_on_hold",
        product_name=product.name,
        amount_due=format_money(
            amount_due, subscription.currency, customer_locale(customer, business)
        ),
        link=url,
        expires_at=link.expires_at,
    )


async def send_reactivated(
    settings: Settings, subscription: Subscription, product: Product
) -> None:
    customer, business = await _parties(subscription.customer_id)
    assert subscription.next_billing_date is not None
    await email_customer(
        settings,
        customer,
        business,
        mailers.subscription_reactivated,
        topic="subscription_reactivated",
        product_name=product.name,
        next_billing_date=subscription.next_billing_date,
    )


async def send_cancelled(settings: Settings, subscription: Subscription, product: Product) -> None:
    customer, business = await _parties(subscription.customer_id)
    ends_at = subscription.next_billing_date if subscription.cancel_at_next_billing_date else None
    await email_customer(
        settings,
        customer,
        business,
        mailers.subscription_cancelled,
        topic="subscription_cancelled",
        product_name=product.name,
        ends_at=ends_at,
    )


async def send_paused(settings: Settings, subscription: Subscription, product: Product) -> None:
    customer, business = await _parties(subscription.customer_id)
    paused = subscription.status == "paused"
    await email_customer(
        settings,
        customer,
        business,
        mailers.subscription_paused,
        topic="subscription_paused",
        product_name=product.name,
        paid_until=subscription.next_billing_date if paused else None,
        pauses_at=None if paused else subscription.next_billing_date,
        resume_at=subscription.resume_at,
    )


async def send_resumed(settings: Settings, subscription: Subscription, product: Product) -> None:
    customer, business = await _parties(subscription.customer_id)
    await email_customer(
        settings,
        customer,
        business,
        mailers.subscription_resumed,
        topic="subscription_resumed",
        product_name=product.name,
        next_billing_date=subscription.next_billing_date,
    )


async def send_plan_change(
    settings: Settings,
    subscription: Subscription,
    change: PlanChange,
    current: Product,
    product: Product,
) -> None:
    """The customer changed plan: applied now, scheduled for the period end, or a scheduled
    change taken back."""
    customer, business = await _parties(subscription.customer_id)
    state = {
        PlanChangeStatus.APPLIED: "applied",
        PlanChangeStatus.SCHEDULED: "scheduled",
    }.get(change.status, "cancelled")
    await email_customer(
        settings,
        customer,
        business,
        mailers.plan_changed,
        topic="plan_changed",
        state=state,
        old_product_name=current.name,
        new_product_name=product.name,
        effective_at=change.effective_at,
        price=format_money(
            product.price_amount, product.currency, customer_locale(customer, business)
        ),
    )
