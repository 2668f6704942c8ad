"""Every message is one Jinja2 template under mailers/templates/emails/, rendered twice: once
for the HTML part (autoescaped, extending emails/layout.html) and once for the plain-text part
(extending emails/layout.txt). The wording lives in the message's template once, so the two
parts cannot drift apart; its translations are the gettext catalog mailers/locale/*/mailers.po.

A merchant's directory (PORTAL_TEMPLATES_DIR) is searched first: emails/login_link.jinja
there replaces ours, and "default/emails/…" still names ours, to extend it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.support import Translations
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
)

from .message import EmailMessage

Locale = Literal["de", "en"]
Format = Literal["html", "text"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "mailers"
LAYOUTS: dict[Format, str] = {"html": "emails/layout.html", "text": "emails/layout.txt"}

_WHITESPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_locale(locale: str | None) -> Locale:
    """Maps "de", "de-DE", "de_AT" to "de"; everything else, unknown languages too, to "en"."""
    language = re.split(r"[-_]", (locale or "").strip(), maxsplit=1)[0].lower()
    return "de" if language == "de" else "en"


def one_line(value: str) -> str:
    """Collapses line breaks and runs of spaces; a newline in a header would be rejected."""
    return _WHITESPACE.sub(" ", value).strip()


# The zone the message being composed shows its times in (the business's): set around the
# composition by `in_time_zone`, UTC otherwise. A context variable, so that every message
# function formats its dates the same way without each passing the zone along.
_TIME_ZONE: ContextVar[str] = ContextVar("mail_time_zone", default="UTC")


@contextmanager
def in_time_zone(name: str) -> Iterator[None]:
    """Times formatted inside are shown in the IANA zone `name` (Europe/Berlin)."""
    token = _TIME_ZONE.set(name)
    try:
        yield
    finally:
        _TIME_ZONE.reset(token)


def _local(value: datetime) -> datetime:
    # Naive datetimes are taken as UTC, which is what the rest of the server stores.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(_TIME_ZONE.get()))


def format_expiry(expires_at: datetime, locale: Locale) -> str:
    """Date and time in the message's zone (babel's medium form), followed by the zone's
    abbreviation as the tz database writes it ("CET", "CEST", "UTC"), the same in both
    languages."""
    local = _local(expires_at)
    formatted = format_datetime(local, format="medium", tzinfo=local.tzinfo, locale=locale)
    return f"{formatted} {local.tzname()}"


def format_day(value: datetime, locale: Locale) -> str:
    """The calendar day in the message's zone: "25.11.2026" (de), "Nov 25, 2026" (en)."""
    return format_date(_local(value).date(), format="medium", locale=locale)


def check_link(link: str) -> str:
    if urlsplit(link).scheme.lower() not in ("http", "https"):
        raise ValueError("email links must be absolute http(s) URLs")
    return link


def translations(locale: Locale) -> Translations:
    """The compiled catalog; `make install` compiles it from the .po file in the repository."""
    compiled = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not compiled.is_file():
        raise RuntimeError(f"{compiled} is missing: run `make install` (pybabel compile)")
    with compiled.open("rb") as handle:
        return Translations(handle, domain=DOMAIN)


class EmailTemplates:
    """The template environments for one override directory (or none): one per part and
    language, made when first used."""

    def __init__(self, override_dir: Path | None = None) -> None:
        self.override_dir = override_dir
        ours = FileSystemLoader(TEMPLATES_DIR)
        searched = [FileSystemLoader(override_dir)] if override_dir else []
        self.loader = ChoiceLoader([*searched, ours, PrefixLoader({"default": ours})])
        self.environments: dict[tuple[Format, Locale], Environment] = {}

    def environment(self, part: Format, locale: Locale) -> Environment:
        found = self.environments.get((part, locale))
        if found is not None:
            return found
        # The HTML part escapes every value; the text part is not HTML, and escaping it would
        # show "&amp;" to the reader.
        env = Environment(
            loader=self.loader,
            autoescape=part == "html",  # noqa: S701
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # The same policy as babel.cfg: msgids of {% trans %} blocks have whitespace collapsed.
        env.policies["ext.i18n.trimmed"] = True
        env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
        self.environments[(part, locale)] = env
        return env


_templates = EmailTemplates()


def use_templates_dir(directory: Path | None) -> None:
    """Where a merchant's email templates are (PORTAL_TEMPLATES_DIR), set once at start-up by
    the app and the CLI. Emails are composed inside services, which are handed no settings for
    this, so the choice is kept here for the process."""
    global _templates
    if _templates.override_dir != directory:
        _templates = EmailTemplates(directory)


def _tidy_text(rendered: str) -> str:
    """Paragraphs separated by one blank line, whatever whitespace the template left."""
    lines = "\n".join(line.strip() for line in rendered.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines) + "\n"


def compose(
    template: str,
    locale: Locale,
    *,
    to: str,
    from_addr: str,
    reply_to: str | None,
    **context: Any,
) -> EmailMessage:
    """Renders emails/<template>.jinja as text and as HTML. The template sets `subject`."""
    name = f"emails/{template}.jinja"
    parts: dict[Format, Any] = {}
    for part in ("text", "html"):
        env = _templates.environment(part, locale)
        parts[part] = env.get_template(name).make_module(
            {**context, "locale": locale, "layout": LAYOUTS[part], "format": part}
        )
    subject = one_line(str(getattr(parts["text"], "subject", "")))
    if not subject:
        raise ValueError(f"{name} must set a subject")
    return EmailMessage(
        to=to,
        subject=subject,
        text=_tidy_text(str(parts["text"])),
        html=str(parts["html"]),
        from_addr=from_addr,
        reply_to=reply_to,
    )
