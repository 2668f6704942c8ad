"""The email to a merchant whose webhook endpoint we turned off, in German ("Sie") and English.

It goes to the business's support address and is signed by the portal, not by the business.
"""

from __future__ import annotations

from datetime import datetime

from .message import EmailMessage
from .rendering import compose, format_expiry, normalize_locale, one_line


def webhook_endpoint_disabled(
    *,
    to: str,
    business_name: str,
    url: str,
    reason: str,
    failing_since: datetime | None,
    from_addr: str,
    locale: str,
) -> EmailMessage:
    """Sent to the business when an endpoint is turned off automatically: `reason` is "failing"
    (it failed for days) or "gone" (it answered 410)."""
    lang = normalize_locale(locale)
    return compose(
        "webhook_endpoint_disabled",
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=None,
        name="",
        support_email=to,
        merchant=one_line(business_name),
        url=one_line(url),
        reason="gone" if reason == "gone" else "failing",
        failing_since=format_expiry(failing_since, lang) if failing_since else "",
    )
