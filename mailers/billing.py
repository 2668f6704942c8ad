"""The billing emails: receipts and subscription changes, in German ("Sie") and English.

Amounts arrive already formatted in the customer's locale (babel's format_currency, by the
caller); dates are formatted here, as the calendar day in UTC."""

from __future__ import annotations

from datetime import datetime

from .message import EmailMessage
from .messages import customer_message
from .rendering import check_link, format_day, format_expiry, normalize_locale, one_line


def payment_receipt(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    amount: str,
    description: str,
    invoice_number: str,
    paid_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Sent after every successful payment; `amount` is already formatted."""
    return customer_message(
        "payment_receipt",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        amount=amount,
        description=one_line(description),
        invoice_number=one_line(invoice_number),
        paid_at=format_day(paid_at, normalize_locale(locale)),
    )


def credit_note_issued(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    amount: str,
    credit_note_number: str,
    invoice_number: str,
    link: str,
    expires_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Sent when a payment is refunded; `amount` is already formatted, `link` leads into the
    customer portal, where the credit note is."""
    return customer_message(
        "credit_note_issued",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        amount=amount,
        credit_note_number=one_line(credit_note_number),
        invoice_number=one_line(invoice_number),
        link=check_link(link),
        expires=format_expiry(expires_at, normalize_locale(locale)),
    )


def subscription_on_hold(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    product_name: str,
    amount_due: str,
    link: str,
    expires_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """A renewal payment failed and the subscription is paused; the link leads to paying."""
    return customer_message(
        "subscription_on_hold",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        product=one_line(product_name),
        amount_due=amount_due,
        link=check_link(link),
        expires=format_expiry(expires_at, normalize_locale(locale)),
    )


def payment_authentication_required(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    product_name: str,
    amount_due: str,
    link: str,
    expires_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """A renewal needs the customer to confirm the payment with their bank (3-D Secure); the
    subscription is on hold until they do, from the link."""
    return customer_message(
        "payment_authentication_required",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        product=one_line(product_name),
        amount_due=amount_due,
        link=check_link(link),
        expires=format_expiry(expires_at, normalize_locale(locale)),
    )


def subscription_reactivated(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    product_name: str,
    next_billing_date: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """The outstanding payment went through and the subscription is active again."""
    return customer_message(
        "subscription_reactivated",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        product=one_line(product_name),
        next_billing_date=format_day(next_billing_date, normalize_locale(locale)),
    )


def subscription_cancelled(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    product_name: str,
    ends_at: datetime | None,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Confirms a cancellation: effective now, or at the end of the period when `ends_at`."""
    return customer_message(
        "subscription_cancelled",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        product=one_line(product_name),
        ends_at=format_day(ends_at, normalize_locale(locale)) if ends_at else "",
    )


def plan_changed(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    state: str,
    old_product_name: str,
    new_product_name: str,
    effective_at: datetime,
    price: str,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Confirms a plan change the customer made: `state` is "applied" (now), "scheduled" (for
    `effective_at`, the period end) or "cancelled" (a scheduled change taken back); `price` is
    the new plan's, already formatted."""
    if state not in ("applied", "scheduled", "cancelled"):
        raise ValueError(f"unknown plan change state {state!r}")
    return customer_message(
        "plan_changed",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        state=state,
        old_product=one_line(old_product_name),
        new_product=one_line(new_product_name),
        effective_at=format_day(effective_at, normalize_locale(locale)),
        price=price,
    )
