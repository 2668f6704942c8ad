"""The emails the portal sends, one function each, in German ("Sie") and English."""

from __future__ import annotations

from datetime import datetime

from ._layout import Locale, Strings, build, check_link, format_expiry, normalize_locale
from .message import EmailMessage

_HELP: dict[Locale, str] = {
    "en": "Questions? Just reply to this email or write to {support_email}.",
    "de": (
        "Bei Fragen antworten Sie einfach auf diese E-Mail oder schreiben Sie an {support_email}."
    ),
}

_LOGIN_LINK: dict[Locale, Strings] = {
    "en": Strings(
        subject="Your sign-in link for {business} customer portal",
        before=("Here is your link to sign in to the {business} customer portal:",),
        action="Sign in to the portal",
        after=(
            "The link works once and is valid until {expires}.",
            "If you didn't ask for this link, you can safely ignore this email.",
            _HELP["en"],
        ),
    ),
    "de": Strings(
        subject="Ihr Anmeldelink für das Kundenportal von {business}",
        before=("hier ist Ihr Link zur Anmeldung im Kundenportal von {business}:",),
        action="Im Kundenportal anmelden",
        after=(
            "Der Link kann einmal verwendet werden und ist bis {expires} gültig.",
            "Falls Sie diesen Link nicht angefordert haben, können Sie diese E-Mail einfach "
            "ignorieren.",
            _HELP["de"],
        ),
    ),
}

_PORTAL_INVITATION: dict[Locale, Strings] = {
    "en": Strings(
        subject="{business} invites you to your customer portal",
        before=(
            "{business} has set up a customer portal for you, where you can manage your "
            "subscription and account details.",
            "Open your portal with this link:",
        ),
        action="Open your portal",
        after=(
            "The link works once and is valid until {expires}.",
            "If you weren't expecting this invitation, you can safely ignore this email.",
            _HELP["en"],
        ),
    ),
    "de": Strings(
        subject="{business} lädt Sie zu Ihrem Kundenportal ein",
        before=(
            "{business} hat ein Kundenportal für Sie eingerichtet, in dem Sie Ihr Abonnement "
            "und Ihre Kontodaten verwalten können.",
            "Mit diesem Link öffnen Sie Ihr Portal:",
        ),
        action="Portal öffnen",
        after=(
            "Der Link kann einmal verwendet werden und ist bis {expires} gültig.",
            "Falls Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail einfach "
            "ignorieren.",
            _HELP["de"],
        ),
    ),
}

_EMAIL_CHANGE_CONFIRMATION: dict[Locale, Strings] = {
    "en": Strings(
        subject="Please confirm your new email address for {business}",
        before=(
            "Please confirm that you want to use this email address for your account at "
            "{business}:",
        ),
        action="Confirm email address",
        after=(
            "The link works once and is valid until {expires}. Your email address changes "
            "only after you confirm it.",
            "If you didn't ask for this change, you can safely ignore this email; your account "
            "stays as it is.",
            _HELP["en"],
        ),
    ),
    "de": Strings(
        subject="Bitte bestätigen Sie Ihre neue E-Mail-Adresse bei {business}",
        before=(
            "bitte bestätigen Sie, dass Sie diese E-Mail-Adresse für Ihr Kundenkonto bei "
            "{business} verwenden möchten:",
        ),
        action="E-Mail-Adresse bestätigen",
        after=(
            "Der Link kann einmal verwendet werden und ist bis {expires} gültig. Ihre "
            "E-Mail-Adresse wird erst geändert, wenn Sie bestätigen.",
            "Falls Sie diese Änderung nicht angefordert haben, können Sie diese E-Mail einfach "
            "ignorieren; Ihr Konto bleibt unverändert.",
            _HELP["de"],
        ),
    ),
}

_EMAIL_CHANGED_NOTICE: dict[Locale, Strings] = {
    "en": Strings(
        subject="Your email address at {business} has been changed",
        before=(
            "The email address for your account at {business} has been changed to "
            "{new_email}. From now on, we'll send messages about your account to the new "
            "address.",
            "If you made this change, there's nothing else to do.",
            "If you didn't, please contact us right away at {support_email} or simply reply "
            "to this email.",
        ),
    ),
    "de": Strings(
        subject="Ihre E-Mail-Adresse bei {business} wurde geändert",
        before=(
            "die E-Mail-Adresse für Ihr Kundenkonto bei {business} wurde in {new_email} "
            "geändert. Nachrichten zu Ihrem Konto senden wir ab jetzt an die neue Adresse.",
            "Wenn Sie diese Änderung selbst vorgenommen haben, ist nichts weiter zu tun.",
            "Falls nicht, wenden Sie sich bitte umgehend an {support_email} oder antworten "
            "Sie einfach auf diese E-Mail.",
        ),
    ),
}


def _link_message(
    strings: dict[Locale, Strings],
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
    lang = normalize_locale(locale)
    return build(
        strings,
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=support_email,
        customer_name=customer_name,
        values={
            "business": business_name,
            "support_email": support_email,
            "expires": format_expiry(expires_at, lang),
        },
        link=check_link(link),
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
        _LOGIN_LINK,
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
        _PORTAL_INVITATION,
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
        _EMAIL_CHANGE_CONFIRMATION,
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
    lang = normalize_locale(locale)
    return build(
        _EMAIL_CHANGED_NOTICE,
        lang,
        to=to,
        from_addr=from_addr,
        reply_to=support_email,
        customer_name=customer_name,
        values={
            "business": business_name,
            "support_email": support_email,
            "new_email": new_email,
        },
    )
