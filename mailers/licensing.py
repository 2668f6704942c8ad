"""The emails about license keys, in German ("Sie") and English."""

from __future__ import annotations

from .message import EmailMessage
from .messages import customer_message
from .rendering import one_line


def license_key_rotated(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    product_name: str,
    license_key: str,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """The merchant replaced a license key: the new key; the old one no longer works."""
    return customer_message(
        "license_key_rotated",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        product=one_line(product_name),
        license_key=one_line(license_key),
    )
