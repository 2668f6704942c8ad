"""Money and dates for people: amounts are integers in the currency's minor unit, never floats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

from services.errors import ServiceError

_CODE = re.compile(r"[A-Za-z]{3}")


def normalize_language(locale: str | None) -> str:
    """Maps "de", "de-DE", "de_AT" to "de"; everything else, unknown languages too, to "en"."""
    language = re.split(r"[-_]", (locale or "").strip(), maxsplit=1)[0].lower()
    return "de" if language == "de" else "en"


@lru_cache(maxsize=1)
def _currencies_in_use() -> frozenset[str]:
    # Legal tender somewhere today, per CLDR: ISO 4217 minus historic codes (DEM), metals (XAU)
    # and the test/no-currency codes (XTS, XXX), none of which a price can be in.
    codes: set[str] = set()
    for territory in Locale("en").territories:
        codes.update(get_territory_currencies(str(territory), tender=True))
    return frozenset(codes)


def check_currency(code: str) -> str:
    """The upper-case ISO 4217 code of a currency in use today, or a ServiceError."""
    candidate = (code or "").strip()
    upper = candidate.upper()
    if not _CODE.fullmatch(candidate) or upper not in _currencies_in_use():
        raise ServiceError(
            f"{code!r} is not a known ISO 4217 currency code.",
            code="INVALID_CURRENCY",
            field=["price", "currency"],
        )
    return upper


def minor_unit_digits(currency: str) -> int:
    """Decimal places of the currency's minor unit: EUR 2, JPY 0, KWD 3."""
    return int(get_currency_precision(currency.upper()))


def to_decimal(amount: int, currency: str) -> Decimal:
    """The exact major-unit value of an amount in minor units: (1234, "EUR") → Decimal("12.34")."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amounts are integers in the currency's minor unit")
    return Decimal(amount).scaleb(-minor_unit_digits(currency))


def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """An amount in minor units for people: (1234, "EUR") → "€12.34" (en), "12,34 €" (de).

    The German form separates number and symbol with a no-break space (U+00A0), as CLDR does.
    """
    code = currency.upper()
    return format_currency(to_decimal(amount, code), code, locale=normalize_language(locale))


@lru_cache(maxsize=4096)
def format_money_cached(amount: int, currency: str, locale: str) -> str:
    """`format_money` for lists, where the same few amounts repeat: babel takes ~50 µs a call."""
    return format_money(amount, currency, locale)


def format_date(value: datetime, locale: str, time_zone: str = "UTC") -> str:
    """The calendar day in `time_zone` (an IANA name; UTC unless given): "25.11.2026" (de),
    "Nov 25, 2026" (en). Naive means UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    day = value.astimezone(ZoneInfo(time_zone)).date()
    return babel_format_date(day, format="medium", locale=normalize_language(locale))
