"""The billing emails, written to the outbox inside the transaction of the change."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mailers
from models import Business, Customer, Invoice, Payment, Product, Subscription
from services.access.links import issue_portal_link
from services.money import format_money
from services.outbox import enqueue_email

if TYPE_CHECKING:
    from app.settings import Settings


def _locale(customer: Customer, business: Business) -> str:
    return customer.locale or business.locale


async def _parties(customer_id: str) -> tuple[Customer, Business]:
    customer = await Customer.get(id=customer_id)
    business = await Business.get(id=customer.business_id)  # type: ignore[attr-defined]
    return customer, business


async def send_receipt(
    settings: Settings, payment: Payment, invoice: Invoice, description: str
) -> None:
    customer, business = await _parties(payment.customer_id)  # type: ignore[attr-defined]
    locale = _locale(customer, business)
    message = mailers.payment_receipt(
        to=customer.email,
        customer_name=customer.name,
        business_name=business.name,
        support_email=business.support_email,
        amount=format_money(payment.amount, payment.currency, locale),
        description=description,
        invoice_number=invoice.number,
        paid_at=invoice.paid_at or payment.created_at,
        from_addr=settings.mail_from,
        locale=locale,
    )
    await enqueue_email(
        settings.secret_key,
        message,
        topic="payment_receipt",
        business_id=business.id,
        mode=payment.mode,
    )


async def send_on_hold(
    settings: Settings, subscription: Subscription, product: Product, amount_due: int
) -> None:
    customer, business = await _parties(subscription.customer_id)  # type: ignore[attr-defined]
    locale = _locale(customer, business)
    link = await issue_portal_link(settings, customer)
    message = mailers.subscription_on_hold(
        to=customer.email,
        customer_name=customer.name,
        business_name=business.name,
        support_email=business.support_email,
        product_name=product.name,
        amount_due=format_money(amount_due, subscription.currency, locale),
        link=link.url,
        expires_at=link.expires_at,
        from_addr=settings.mail_from,
        locale=locale,
    )
    await enqueue_email(
        settings.secret_key,
        message,
        topic="subscription_on_hold",
        business_id=business.id,
        mode=subscription.mode,
    )


async def send_reactivated(
    settings: Settings, subscription: Subscription, product: Product
) -> None:
    customer, business = await _parties(subscription.customer_id)  # type: ignore[attr-defined]
    assert subscription.next_billing_date is not None
    message = mailers.subscription_reactivated(
        to=customer.email,
        customer_name=customer.name,
        business_name=business.name,
        support_email=business.support_email,
        product_name=product.name,
        next_billing_date=subscription.next_billing_date,
        from_addr=settings.mail_from,
        locale=_locale(customer, business),
    )
    await enqueue_email(
        settings.secret_key,
        message,
        topic="subscription_reactivated",
        business_id=business.id,
        mode=subscription.mode,
    )


async def send_cancelled(settings: Settings, subscription: Subscription, product: Product) -> None:
    customer, business = await _parties(subscription.customer_id)  # type: ignore[attr-defined]
    ends_at = subscription.next_billing_date if subscription.cancel_at_next_billing_date else None
    message = mailers.subscription_cancelled(
        to=customer.email,
        customer_name=customer.name,
        business_name=business.name,
        support_email=business.support_email,
        product_name=product.name,
        ends_at=ends_at,
        from_addr=settings.mail_from,
        locale=_locale(customer, business),
    )
    await enqueue_email(
        settings.secret_key,
        message,
        topic="subscription_cancelled",
        business_id=business.id,
        mode=subscription.mode,
    )
