"""Emails to a customer: the parts every message shares, and the outbox write."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mailers import EmailMessage, in_time_zone
from models import Business, Customer
from services.business_settings import time_zone_of
from services.outbox import enqueue_email

if TYPE_CHECKING:
    from services.settings import Settings


def customer_locale(customer: Customer, business: Business) -> str:
    """The customer's own choice, else the business's language."""
    return customer.locale or business.locale


async def email_customer(
    settings: Settings,
    customer: Customer,
    business: Business,
    compose: Callable[..., EmailMessage],
    *,
    topic: str,
    to: str | None = None,
    **fields: Any,
) -> None:
    """Composes one of mailers' messages for the customer (its times in the business's time
    zone) and writes it to the outbox. Call
    inside the transaction of the change that causes it (then `notify_worker` after commit)."""
    with in_time_zone(time_zone_of(business)):
        message = compose(
            to=to or customer.email,
            customer_name=customer.name,
            business_name=business.name,
            support_email=business.support_email,
            from_addr=settings.mail_from,
            locale=customer_locale(customer, business),
            **fields,
        )
    await enqueue_email(
        settings.secret_key, message, topic=topic, business_id=business.id, mode=customer.mode
    )
