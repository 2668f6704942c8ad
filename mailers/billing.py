"""The billing emails: receipts and subscription changes, in German ("Sie") and English.

Amounts arrive already formatted (services.money.format_money) in the customer's locale.
"""

from __future__ import annotations

from datetime import datetime

from services.money import format_date

from ._layout import Locale, Strings, build, check_link, format_expiry, normalize_locale, one_line
from .message import EmailMessage
from .messages import _HELP

_PAYMENT_RECEIPT: dict[Locale, Strings] = {
    "en": Strings(
        subject="Receipt for your payment to {business}",
        before=(
            "Thank you for your payment to {business}. This email is your receipt.",
            "Amount paid: {amount}",
            "For: {description}",
            "Invoice number: {invoice_number}",
            "Paid on: {paid_at}",
        ),
        after=("You'll also find this invoice in your customer portal.", _HELP["en"]),
    ),
    "de": Strings(
        subject="Beleg für Ihre Zahlung an {business}",
        before=(
            "vielen Dank für Ihre Zahlung an {business}. Diese E-Mail ist Ihr Zahlungsbeleg.",
            "Gezahlter Betrag: {amount}",
            "Für: {description}",
            "Rechnungsnummer: {invoice_number}",
            "Bezahlt am: {paid_at}",
        ),
        after=("Sie finden diese Rechnung auch in Ihrem Kundenportal.", _HELP["de"]),
    ),
}

_SUBSCRIPTION_ON_HOLD: dict[Locale, Strings] = {
    "en": Strings(
        subject="Payment failed: your subscription to {product} is on hold",
        before=(
            "We couldn't collect the renewal payment of {amount_due} for your subscription to "
            "{product} with {business}, so your subscription is paused for now.",
            "To continue it, please update your card and pay the outstanding amount in your "
            "customer portal:",
        ),
        action="Update card and pay",
        after=(
            "The link works once and is valid until {expires}. As soon as the payment goes "
            "through, your subscription is active again.",
            _HELP["en"],
        ),
    ),
    "de": Strings(
        subject="Zahlung fehlgeschlagen: Ihr Abonnement {product} ist pausiert",
        before=(
            "die Verlängerungszahlung über {amount_due} für Ihr Abonnement {product} bei "
            "{business} konnte nicht eingezogen werden. Ihr Abonnement ist deshalb vorerst "
            "pausiert.",
            "Um es fortzusetzen, aktualisieren Sie bitte Ihre Karte und begleichen Sie den "
            "offenen Betrag in Ihrem Kundenportal:",
        ),
        action="Karte aktualisieren und bezahlen",
        after=(
            "Der Link kann einmal verwendet werden und ist bis {expires} gültig. Sobald die "
            "Zahlung eingegangen ist, ist Ihr Abonnement wieder aktiv.",
            _HELP["de"],
        ),
    ),
}

_SUBSCRIPTION_REACTIVATED: dict[Locale, Strings] = {
    "en": Strings(
        subject="Your subscription to {product} is active again",
        before=(
            "Thank you, we've received your payment. Your subscription to {product} with "
            "{business} is active again.",
            "Your next renewal is on {next_billing_date}.",
        ),
        after=(_HELP["en"],),
    ),
    "de": Strings(
        subject="Ihr Abonnement {product} ist wieder aktiv",
        before=(
            "vielen Dank, wir haben Ihre Zahlung erhalten. Ihr Abonnement {product} bei "
            "{business} ist wieder aktiv.",
            "Die nächste Verlängerung erfolgt am {next_billing_date}.",
        ),
        after=(_HELP["de"],),
    ),
}

_SUBSCRIPTION_CANCELLED_NOW: dict[Locale, Strings] = {
    "en": Strings(
        subject="Your subscription to {product} has been cancelled",
        before=(
            "As requested, your subscription to {product} with {business} has been cancelled "
            "with immediate effect. You won't be charged for it again.",
        ),
        after=(_HELP["en"],),
    ),
    "de": Strings(
        subject="Ihr Abonnement {product} wurde gekündigt",
        before=(
            "wie gewünscht haben wir Ihr Abonnement {product} bei {business} mit sofortiger "
            "Wirkung gekündigt. Es werden keine weiteren Zahlungen dafür eingezogen.",
        ),
        after=(_HELP["de"],),
    ),
}

_SUBSCRIPTION_CANCELLED_AT_END: dict[Locale, Strings] = {
    "en": Strings(
        subject="Your subscription to {product} has been cancelled",
        before=(
            "As requested, your subscription to {product} with {business} has been cancelled. "
            "It stays active until {ends_at} and ends then; you won't be charged for it again.",
            "Changed your mind? Until then, you can undo the cancellation in your customer portal.",
        ),
        after=(_HELP["en"],),
    ),
    "de": Strings(
        subject="Ihr Abonnement {product} wurde gekündigt",
        before=(
            "wie gewünscht haben wir Ihr Abonnement {product} bei {business} gekündigt. Es "
            "bleibt bis zum {ends_at} aktiv und endet dann; es werden keine weiteren Zahlungen "
            "dafür eingezogen.",
            "Falls Sie es sich anders überlegen, können Sie die Kündigung bis dahin in Ihrem "
            "Kundenportal zurücknehmen.",
        ),
        after=(_HELP["de"],),
    ),
}


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
    lang = normalize_locale(locale)
    return build(
        _PAYMENT_RECEIPT,
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=support_email,
        customer_name=customer_name,
        values={
            "business": business_name,
            "support_email": support_email,
            "amount": amount,
            "description": one_line(description),
            "invoice_number": one_line(invoice_number),
            "paid_at": format_date(paid_at, lang),
        },
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
    lang = normalize_locale(locale)
    return build(
        _SUBSCRIPTION_ON_HOLD,
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=support_email,
        customer_name=customer_name,
        values={
            "business": business_name,
            "support_email": support_email,
            "product": one_line(product_name),
            "amount_due": amount_due,
            "expires": format_expiry(expires_at, lang),
        },
        link=check_link(link),
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
    lang = normalize_locale(locale)
    return build(
        _SUBSCRIPTION_REACTIVATED,
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=support_email,
        customer_name=customer_name,
        values={
            "business": business_name,
            "support_email": support_email,
            "product": one_line(product_name),
            "next_billing_date": format_date(next_billing_date, lang),
        },
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
    lang = normalize_locale(locale)
    values = {
        "business": business_name,
        "support_email": support_email,
        "product": one_line(product_name),
    }
    strings = _SUBSCRIPTION_CANCELLED_NOW
    if ends_at is not None:
        strings = _SUBSCRIPTION_CANCELLED_AT_END
        values["ends_at"] = format_date(ends_at, lang)
    return build(
        strings,
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=support_email,
        customer_name=customer_name,
        values=values,
    )
