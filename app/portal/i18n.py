"""The portal's two languages: which one a page speaks, and its money and dates. The words are
in the templates and the gettext catalogs (app/locale)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale
from starlette.requests import Request

from services.money import format_date, format_money_cached

LOCALES = ("en", "de")
# Each language named in itself, as a language switch shows it: "English", "Deutsch".
LANGUAGE_NAMES = {
    code: (Locale.parse(code).get_display_name(code) or code).capitalize() for code in LOCALES
}
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
        return saved
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LOCALES:
        return remembered
    browser = accept_language(request.headers.get("accept-language", ""))
    if browser:
        return browser
    return business if business in LOCALES else "en"


def format_amount(value: dict[str, Any] | None, locale: str) -> str:
    """A Money object of our schema ({amount, currency}) for people, in the page's language."""
    if not value:
        return DASH
    return format_money_cached(int(value["amount"]), str(value["currency"]), locale)


def format_day(value: str | None, locale: str, time_zone: str = "UTC") -> str:
    """An ISO date-time of our schema as the calendar day in the business's time zone, in the
    page's language."""
    if not value:
        return DASH
    return format_date(datetime.fromisoformat(value), locale, time_zone)
