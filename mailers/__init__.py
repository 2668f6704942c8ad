"""Outgoing email: one function per message (its words in a Jinja2 template and a gettext
catalog), and the transports that deliver them."""

from __future__ import annotations

from .billing import (
    credit_note_issued,
    payment_authentication_required,
    payment_receipt,
    plan_changed,
    subscription_cancelled,
    subscription_on_hold,
    subscription_reactivated,
)
from .licensing import license_key_rotated
from .message import EmailMessage
from .messages import (
    email_change_confirmation,
    email_changed_notice,
    login_link,
    portal_invitation,
)
from .pauses import subscription_paused, subscription_resumed
from .rendering import in_time_zone, normalize_locale, use_templates_dir
from .transport import (
    DeliveryError,
    FileTransport,
    MailTransport,
    SMTPTransport,
    transport_from_url,
)
from .webhooks import webhook_endpoint_disabled

__all__ = [
    "DeliveryError",
    "EmailMessage",
    "FileTransport",
    "MailTransport",
    "SMTPTransport",
    "credit_note_issued",
    "email_change_confirmation",
    "email_changed_notice",
    "in_time_zone",
    "license_key_rotated",
    "login_link",
    "normalize_locale",
    "payment_authentication_required",
    "payment_receipt",
    "plan_changed",
    "portal_invitation",
    "subscription_cancelled",
    "subscription_on_hold",
    "subscription_paused",
    "subscription_reactivated",
    "subscription_resumed",
    "transport_from_url",
    "use_templates_dir",
    "webhook_endpoint_disabled",
]
