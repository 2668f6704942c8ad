"""Shared pieces of every message: locale handling, dates, and the text/HTML layout."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Literal
from urllib.parse import urlsplit

from babel.dates import format_datetime

from .message import EmailMessage

Locale = Literal["de", "en"]

_WHITESPACE = re.compile(r"\s+")


def normalize_locale(locale: str | None) -> Locale:
    """Maps "de", "de-DE", "de_AT" to "de"; everything else, unknown languages too, to "en"."""
    language = re.split(r"[-_]", (locale or "").strip(), maxsplit=1)[0].lower()
    return "de" if language == "de" else "en"


def one_line(value: str) -> str:
    """Collapses line breaks and runs of spaces; a newline in a header would be rejected."""
    return _WHITESPACE.sub(" ", value).strip()


def format_expiry(expires_at: datetime, locale: Locale) -> str:
    # Naive datetimes are taken as UTC, which is what the rest of the server stores.
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    formatted = format_datetime(expires_at, format="medium", tzinfo=UTC, locale=locale)
    return f"{formatted} UTC"


def check_link(link: str) -> str:
    if urlsplit(link).scheme.lower() not in ("http", "https"):
        raise ValueError("email links must be absolute http(s) URLs")
    return link


@dataclass(frozen=True)
class Strings:
    """The localized wording of one message; {placeholders} are filled per send."""

    subject: str
    before: tuple[str, ...]
    after: tuple[str, ...] = ()
    action: str | None = None


_COMMON: dict[Locale, dict[str, str]] = {
    "en": {
        "greeting_named": "Hello {name},",
        "greeting": "Hello,",
        "copy_hint": "If the button doesn't work, copy this address into your browser:",
        "signoff": "Kind regards,",
    },
    "de": {
        "greeting_named": "Guten Tag {name},",
        "greeting": "Guten Tag,",
        "copy_hint": (
            "Falls die Schaltfläche nicht funktioniert, kopieren Sie diese Adresse "
            "in Ihren Browser:"
        ),
        "signoff": "Freundliche Grüße",
    },
}

_FONT = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_P = "margin:0 0 16px;"
_BUTTON = (
    "display:inline-block;padding:12px 24px;background-color:#1d4ed8;color:#ffffff;"
    "text-decoration:none;border-radius:6px;font-weight:600;"
)
_LINK = "color:#1d4ed8;text-decoration:underline;word-break:break-all;"


def build(
    strings: Mapping[Locale, Strings],
    locale: Locale,
    *,
    to: str,
    from_addr: str,
    reply_to: str | None,
    customer_name: str | None,
    values: Mapping[str, str],
    link: str | None = None,
) -> EmailMessage:
    """Renders one message in both formats from the same wording.

    `values` must contain "business" and "support_email"; they are interpolated as plain text
    into the text part and HTML-escaped into the HTML part.
    """
    wording = strings[locale]
    common = _COMMON[locale]
    name = one_line(customer_name or "")
    raw = {**values, "business": one_line(values["business"]), "name": name}
    greeting = common["greeting_named"] if name else common["greeting"]

    html_values = {key: escape(value) for key, value in raw.items()}
    support = html_values["support_email"]
    html_values["support_email"] = f'<a href="mailto:{support}" style="{_LINK}">{support}</a>'

    def text(template: str) -> str:
        return template.format(**raw)

    def html(template: str) -> str:
        # The wording is ours, but is escaped too so a stray "&" or "<" cannot break the markup.
        return escape(template, quote=False).format(**html_values)

    subject = one_line(text(wording.subject))
    signature = raw["business"]

    text_parts = [text(greeting), *map(text, wording.before)]
    if link is not None:
        text_parts.append(link)
    text_parts += [*map(text, wording.after), f"{common['signoff']}\n{signature}"]
    text_body = "\n\n".join(text_parts) + "\n"

    hint = escape(common["copy_hint"], quote=False)
    signoff = escape(common["signoff"], quote=False)
    html_parts = [f'<p style="{_P}">{html(greeting)}</p>']
    html_parts += [f'<p style="{_P}">{html(p)}</p>' for p in wording.before]
    if link is not None:
        href = escape(link)
        label = escape(wording.action or link)
        html_parts.append(
            f'<p style="margin:24px 0;"><a href="{href}" style="{_BUTTON}">{label}</a></p>'
        )
        html_parts.append(
            f'<p style="{_P}font-size:14px;color:#4b5563;">{hint}<br>'
            f'<a href="{href}" style="{_LINK}">{href}</a></p>'
        )
    html_parts += [f'<p style="{_P}">{html(p)}</p>' for p in wording.after]
    html_parts.append(f'<p style="margin:24px 0 0;">{signoff}<br>{escape(signature)}</p>')
    html_body = _PAGE.format(
        lang=locale,
        title=escape(subject),
        font=_FONT,
        content="\n".join(html_parts),
    )

    return EmailMessage(
        to=to,
        subject=subject,
        text=text_body,
        html=html_body,
        from_addr=from_addr,
        reply_to=reply_to,
    )


_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<div role="article" aria-label="{title}" lang="{lang}" style="max-width:560px;margin:0 auto;\
padding:32px 24px;background-color:#ffffff;font-family:{font};font-size:16px;line-height:1.5;\
color:#1f2937;">
{content}
</div>
</body>
</html>
"""
