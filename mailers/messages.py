"""The emails about access to the portal, one function each, in German ("Sie") and English.
Their words are the templates emails/<name>.jinja and the catalog mailers/locale."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.utils import parseaddr

from .message import EmailMessage
from .rendering import check_link, compose, format_expiry, normalize_locale, one_line


def customer_message(
    template: str,
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    from_addr: str,
    locale: str,
    **values: str,
) -> EmailMessage:
    """What every message to a customer shares: the sender shown as the business
    (`Acme GmbH <portal@…>`: the configured address, the business's name), the greeting, the
    business's signature, and replies going to its support address."""
    return compose(
        template,
        normalize_locale(locale),
        to=to,
        from_addr=sender_as(business_name, from_addr),
        reply_to=support_email,
        name=one_line(customer_name or ""),
        business=one_line(business_name),
        support_email=support_email,
        **values,
    )


def sender_as(business_name: str, from_addr: str) -> str:
    """The configured sender address with the business's name as its display name (quoted or
    encoded as RFC 5322 needs: commas, quotes, umlauts)."""
    address = parseaddr(from_addr)[1] or from_addr
    return str(Address(display_name=one_line(business_name), addr_spec=address))


def _link_message(
    template: str,
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    link: str,
    expires_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    return customer_message(
        template,
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        link=check_link(link),
        expires=format_expiry(expires_at, normalize_locale(locale)),
    )


def login_link(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    link: str,
    expires_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """The one-time sign-in link a customer asked for on the portal's sign-in page."""
    return _link_message(
        "login_link",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        link=link,
        expires_at=expires_at,
        from_addr=from_addr,
        locale=locale,
    )


def portal_invitation(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    link: str,
    expires_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Sent when the merchant creates a portal link for the customer."""
    return _link_message(
        "portal_invitation",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        link=link,
        expires_at=expires_at,
        from_addr=from_addr,
        locale=locale,
    )


def email_change_confirmation(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    link: str,
    expires_at: datetime,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Sent to the new address; the change happens only once the link is followed."""
    return _link_message(
        "email_change_confirmation",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        link=link,
        expires_at=expires_at,
        from_addr=from_addr,
        locale=locale,
    )


def email_changed_notice(
    *,
    to: str,
    customer_name: str | None,
    business_name: str,
    support_email: str,
    new_email: str,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Sent to the old address after a change, so a hijacked account does not go unnoticed."""
    return customer_message(
        "email_changed_notice",
        to=to,
        customer_name=customer_name,
        business_name=business_name,
        support_email=support_email,
        from_addr=from_addr,
        locale=locale,
        new_email=new_email,
    )
