"""The email to a merchant whose webhook endpoint we turned off, in German ("Sie") and English.

It goes to the business's support address and is signed by the portal, not by the business.
"""

from __future__ import annotations

from datetime import datetime

from ._layout import Locale, Strings, build, format_expiry, normalize_locale, one_line
from .message import EmailMessage

SENDER_NAME = "Customer Portal"

_WHAT_NOW: dict[Locale, tuple[str, ...]] = {
    "en": (
        "New events are still recorded, but not sent to this endpoint while it is disabled.",
        "Once the endpoint works again, turn it back on with the updateWebhookEndpoint "
        "mutation (disabled: false), and send the events you missed again with "
        "redeliverEvent. The webhookEvents query lists every event with each delivery attempt "
        "and the response your endpoint gave.",
    ),
    "de": (
        "Neue Ereignisse werden weiterhin erfasst, aber nicht an diesen Endpunkt gesendet, "
        "solange er deaktiviert ist.",
        "Sobald der Endpunkt wieder funktioniert, aktivieren Sie ihn mit der Mutation "
        "updateWebhookEndpoint (disabled: false) und senden verpasste Ereignisse mit "
        "redeliverEvent erneut. Die Abfrage webhookEvents listet jedes Ereignis mit allen "
        "Zustellversuchen und der Antwort Ihres Endpunkts.",
    ),
}

_DISABLED_FAILING: dict[Locale, Strings] = {
    "en": Strings(
        subject="Webhook endpoint disabled after repeated failures ({merchant})",
        before=(
            "We have stopped sending webhooks for {merchant} to this endpoint:",
            "{url}",
            "Every delivery to it has failed since {failing_since}, so after three days of "
            "failures we disabled it.",
        ),
        after=_WHAT_NOW["en"],
    ),
    "de": Strings(
        subject="Webhook-Endpunkt nach wiederholten Fehlern deaktiviert ({merchant})",
        before=(
            "wir haben aufgehört, Webhooks für {merchant} an diesen Endpunkt zu senden:",
            "{url}",
            "Seit {failing_since} ist jede Zustellung an ihn fehlgeschlagen. Nach drei Tagen "
            "mit Fehlern haben wir ihn deshalb deaktiviert.",
        ),
        after=_WHAT_NOW["de"],
    ),
}

_DISABLED_GONE: dict[Locale, Strings] = {
    "en": Strings(
        subject="Webhook endpoint disabled: it answered 410 Gone ({merchant})",
        before=(
            "We have stopped sending webhooks for {merchant} to this endpoint:",
            "{url}",
            "It answered a delivery with HTTP status 410 Gone, which tells us that it no longer "
            "accepts webhooks, so we disabled it.",
        ),
        after=_WHAT_NOW["en"],
    ),
    "de": Strings(
        subject="Webhook-Endpunkt deaktiviert: Antwort 410 Gone ({merchant})",
        before=(
            "wir haben aufgehört, Webhooks für {merchant} an diesen Endpunkt zu senden:",
            "{url}",
            "Er hat eine Zustellung mit dem HTTP-Status 410 Gone beantwortet. Damit teilt er "
            "mit, dass er keine Webhooks mehr annimmt; wir haben ihn deshalb deaktiviert.",
        ),
        after=_WHAT_NOW["de"],
    ),
}


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
    strings = _DISABLED_GONE if reason == "gone" else _DISABLED_FAILING
    return build(
        strings,
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=None,
        customer_name=None,
        values={
            "business": SENDER_NAME,  # the signature: this message comes from the portal
            "support_email": to,
            "merchant": one_line(business_name),
            "url": one_line(url),
            "failing_since": format_expiry(failing_since, lang) if failing_since else "?",
        },
    )
