"""Emails about pauses: a subscription paused (or set to pause), and resumed."""

from __future__ import annotations

from datetime import datetime

from .message import EmailMessage
from .messages import customer_message
from .rendering import format_day, normalize_locale, one_line


def subscription_paused(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    product_name: str,
    paid_until: datetime | None,
    pauses_at: datetime | None,
    resume_at: datetime | None,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Confirms a pause: in effect now (`pauses_at` None) or at the period end `pauses_at`;
    `paid_until` is when access ends, `resume_at` when it resumes by itself (or none)."""
    lang = normalize_locale(locale)
    return customer_message(
        "subscription_paused",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        product=one_line(product_name),
        paid_until=format_day(paid_until, lang) if paid_until else "",
        pauses_at=format_day(pauses_at, lang) if pauses_at else "",
        resume_at=format_day(resume_at, lang) if resume_at else "",
    )


def subscription_resumed(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    product_name: str,
    next_billing_date: datetime | None,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """The paused subscription runs again; the next renewal is on `next_billing_date`."""
    return customer_message(
        "subscription_resumed",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        product=one_line(product_name),
        next_billing_date=format_day(next_billing_date, normalize_locale(locale))
        if next_billing_date
        else "",
    )
