"""The hosted pages' templates: Jinja2 with autoescaping, rendered through Starlette's
Jinja2Templates, their words from the gettext catalogs app/locale/{de,en}/LC_MESSAGES/portal.po.

A merchant's directory (PORTAL_TEMPLATES_DIR) is searched before ours, so login.html there
replaces our login.html; "default/login.html" always names ours, to extend it and change one
block. Autoescaping stays on for every template, the merchant's too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.support import Translations
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    pass_context,
)
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from app.portal.i18n import LOCALES, format_amount, format_day

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "portal"


def translations(locale: str) -> Translations:
    """The compiled catalog; `make install` compiles it from the .po file in the repository."""
    compiled = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not compiled.is_file():
        raise RuntimeError(f"{compiled} is missing: run `make install` (pybabel compile)")
    with compiled.open("rb") as handle:
        return Translations(handle, domain=DOMAIN)


def _time_zone_of(context: Context) -> str:
    """The business's time zone on signed-in pages (`page.time_zone`), else UTC."""
    page = context.get("page")
    return str(getattr(page, "time_zone", None) or "UTC")


def _environment(loader: ChoiceLoader, locale: str) -> Environment:
    env = Environment(
        loader=loader,
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The same policy as babel.cfg: msgids of {% trans %} blocks have whitespace collapsed.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda value: format_amount(value, locale)
    env.filters["day"] = pass_context(
        lambda context, value: format_day(value, locale, _time_zone_of(context))
    )
    return env


class PageTemplates:
    """One Jinja2Templates per language (translations are installed per environment, so
    concurrent requests in different languages never share one), over the same loader."""

    def __init__(self, override_dir: Path | None = None) -> None:
        ours = FileSystemLoader(TEMPLATES_DIR)
        searched = [FileSystemLoader(override_dir)] if override_dir else []
        loader = ChoiceLoader([*searched, ours, PrefixLoader({"default": ours})])
        self.by_locale = {
            locale: Jinja2Templates(env=_environment(loader, locale)) for locale in LOCALES
        }

    def response(
        self, request: Request, locale: str, name: str, context: dict[str, Any], status: int
    ) -> Response:
        response: Response = self.by_locale[locale].TemplateResponse(
            request, name, context, status_code=status
        )
        return response
