"""The portal's two languages: which one a page speaks, its words, and money and dates."""

from __future__ import annotations

import html
from datetime import datetime

from starlette.requests import Request

from app.portal.text_de import TEXT as GERMAN
from app.portal.text_en import TEXT as ENGLISH
from services.money import format_date, format_money

LOCALES = ("en", "de")
TEXT: dict[str, dict[str, str]] = {"en": ENGLISH, "de": GERMAN}
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
LANG_COOKIE = "portal_lang"
DASH = "\u2013"  # for a value that is not there


def accept_language(header: str) -> str | None:
    """The supported language the browser prefers most (q-values honoured), if any."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower()[:2]
        if language in LOCALES and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def negotiate(request: Request, saved: str | None = None, business: str | None = None) -> str:
    """?lang= (the switch) first, then the customer's saved choice, the browser's cookie, the
    browser's Accept-Language, the business's language, English."""
    explicit = request.query_params.get("lang")
    if explicit in LOCALES:
        return explicit
    if saved in LOCALES:
        return saved  # type: ignore[return-value]
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LOCALES:
        return remembered
    browser = accept_language(request.headers.get("accept-language", ""))
    if browser:
        return browser
    return business if business in LOCALES else "en"  # type: ignore[return-value]


def text(locale: str, key: str, **values: object) -> str:
    """The words for `key`, with every value escaped; the result is HTML-safe."""
    template = TEXT[locale].get(key) or TEXT["en"][key]
    escaped = {name: html.escape(str(value)) for name, value in values.items()}
    return html.escape(template, quote=False).format(**escaped)


def has_text(locale: str, key: str) -> bool:
    return key in TEXT[locale]


def money(value: dict[str, object] | None, locale: str) -> str:
    if not value:
        return DASH
    return html.escape(format_money(int(value["amount"]), str(value["currency"]), locale))  # type: ignore[call-overload]


def date(value: str | None, locale: str) -> str:
    if not value:
        return DASH
    return html.escape(format_date(datetime.fromisoformat(value), locale))
