"""A business's settings as its customers see them: name, support address, language, logo and
accent colour. The hosted pages read them; the merchant changes them with `updateBusiness`.

Colours are checked for people, not only for syntax: whatever accent a merchant picks, the pages
get a text colour that reads on it and a darker shade of it that reads on white (WCAG AA, 4.5:1).
Logos are https URLs (or URLs under PORTAL_PUBLIC_URL): the pages allow exactly that origin in
their Content-Security-Policy and load it without a referrer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from tortoise.transactions import in_transaction

from models import Business
from services.errors import ServiceError
from services.scope import Scope
from services.validation import check_return_url, clean_name, normalize_email

DEFAULT_ACCENT = "#3B4CCA"
WHITE = "#FFFFFF"
DARK = "#111418"
MIN_TEXT_CONTRAST = 4.5
MAX_LOGO_URL = 500
LOCALES = ("en", "de")

_HEX = re.compile(r"#?([0-9A-Fa-f]{6})")
# A host name or IPv4 literal as it may stand in a CSP source expression (IDNs as punycode).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# What a path and query may hold: RFC 3986 characters without quotes, spaces or backslashes.
_URL_TAIL = re.compile(r"[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*")

UNSET = object()


@dataclass(frozen=True)
class Branding:
    name: str
    locale: str
    logo_url: str | None
    accent_color: str
    accent_contrast_color: str
    link_color: str

    @property
    def logo_origin(self) -> str | None:
        return origin_of(self.logo_url) if self.logo_url else None


def branding_of(business: Business) -> Branding:
    accent = business.accent_color or DEFAULT_ACCENT
    return Branding(
        name=business.name,
        locale=business.locale if business.locale in LOCALES else "en",
        logo_url=business.logo_url,
        accent_color=accent,
        accent_contrast_color=readable_text_on(accent),
        link_color=readable_on_white(accent),
    )


# Colours -----------------------------------------------------------------------------------


def _channels(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{round(max(0, min(255, c))):02X}" for c in (red, green, blue))


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in _channels(color))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_text_on(background: str) -> str:
    """White or near-black, whichever reads better on the background (always above 4.5:1)."""
    if contrast_ratio(background, WHITE) >= contrast_ratio(background, DARK):
        return WHITE
    return DARK


def readable_on_white(color: str) -> str:
    """The colour itself when it reads as text on white, else the closest darker shade that
    does: merchants keep their hue, customers keep legible links."""
    if contrast_ratio(color, WHITE) >= MIN_TEXT_CONTRAST:
        return color
    red, green, blue = _channels(color)
    for step in range(1, 101):
        keep = 1 - step / 100
        shade = _hex(red * keep, green * keep, blue * keep)
        if contrast_ratio(shade, WHITE) >= MIN_TEXT_CONTRAST:
            return shade
    return DARK


def normalize_accent_color(value: str) -> str:
    match = _HEX.fullmatch(value.strip())
    if not match:
        raise ServiceError(
            "Use a colour in the form #RRGGBB, e.g. #3B4CCA.",
            code="INVALID_COLOR",
            field=["accentColor"],
        )
    return "#" + match.group(1).upper()


# Logos -------------------------------------------------------------------------------------


def _invalid_logo(message: str) -> ServiceError:
    return ServiceError(message, code="INVALID_URL", field=["logoUrl"])


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def check_logo_url(value: str, public_url: str) -> str:
    """An https URL (or one under PORTAL_PUBLIC_URL) that is safe to name in a CSP header and
    in an `src` attribute: no credentials, no odd characters, at most 500 characters."""
    url = value.strip()
    if len(url) > MAX_LOGO_URL:
        raise _invalid_logo(f"Use at most {MAX_LOGO_URL} characters.")
    parts = urlsplit(url)
    ours = origin_of(public_url)
    if parts.scheme != "https" and not url.startswith(ours + "/"):
        raise _invalid_logo("The logo must be an https URL.")
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        port == -1
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or not _HOST.fullmatch(host)
        or parts.netloc.lower() not in {host, f"{host}:{port}"}
        or not _URL_TAIL.fullmatch(parts.path + ("?" + parts.query if parts.query else ""))
    ):
        raise _invalid_logo("This is not a logo URL the portal can show.")
    return url


# Reading and changing ------------------------------------------------------------------------


async def find_business(business_id: str) -> Business | None:
    """For the public login page: the business behind a static link, if any."""
    if not business_id or len(business_id) > 40:
        return None
    return await Business.get_or_none(id=business_id)


def time_zone_of(business: Business) -> str:
    """The zone the business's emails and pages show times in: its own choice, else
    Europe/Berlin for a German business (its legal address in Germany, or no legal address
    and German as its language), else UTC."""
    if business.time_zone:
        return str(business.time_zone)
    country = business.country
    german = country == "DE" or (not country and business.locale == "de")
    return "Europe/Berlin" if german else "UTC"


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())  # reads the tz database from disk: once


def check_time_zone(value: object) -> str:
    """An IANA time zone name as the tz database spells it (Europe/Berlin, America/New_York,
    UTC)."""
    if not isinstance(value, str) or len(value) > 64 or value not in _zone_names():
        raise ServiceError(
            "The time zone must be an IANA name such as Europe/Berlin or UTC.",
            code="INVALID_TIME_ZONE",
            field=["timeZone"],
        )
    return value


async def update_business(
    scope: Scope,
    public_url: str,
    *,
    name: object = UNSET,
    support_email: object = UNSET,
    locale: object = UNSET,
    logo_url: object = UNSET,
    accent_color: object = UNSET,
    portal_return_url: object = UNSET,
    time_zone: object = UNSET,
) -> Business:
    """Every given field changes at once, after all of them are checked; null clears the
    logo and the accent colour (the portal's defaults)."""
    changes: dict[str, object] = {}
    if name is not UNSET:
        cleaned = clean_name(name if isinstance(name, str) else "")
        if not cleaned:
            raise ServiceError("The name cannot be empty.", code="INVALID_NAME", field=["name"])
        changes["name"] = cleaned
    if support_email is not UNSET:
        changes["support_email"] = normalize_email(
            support_email if isinstance(support_email, str) else "", field=["supportEmail"]
        )
    if locale is not UNSET:
        if locale not in LOCALES:
            raise ServiceError(
                "The language must be en or de.", code="INVALID_LOCALE", field=["locale"]
            )
        changes["locale"] = locale
    if logo_url is not UNSET:
        changes["logo_url"] = (
            check_logo_url(logo_url, public_url) if isinstance(logo_url, str) and logo_url else None
        )
    if accent_color is not UNSET:
        changes["accent_color"] = (
            normalize_accent_color(accent_color)
            if isinstance(accent_color, str) and accent_color
            else None
        )
    if portal_return_url is not UNSET:
        changes["portal_return_url"] = (
            check_return_url(portal_return_url, ["portalReturnUrl"])
            if isinstance(portal_return_url, str) and portal_return_url
            else None
        )
    if time_zone is not UNSET:
        changes["time_zone"] = check_time_zone(time_zone) if time_zone is not None else None
    async with in_transaction():
        business = await Business.get(id=scope.business_id)
        if changes:
            await Business.filter(id=business.id).update(**changes)
            await business.refresh_from_db()
    return business
