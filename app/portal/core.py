"""What every hosted page shares: running our own GraphQL in-process, the page frame (branding,
navigation, language switch), CSRF, cookies and the Content-Security-Policy.

The pages are clients of our GraphQL schema: every read and every action is a GraphQL operation
run with the request's own credentials, so a page can do nothing the API does not allow."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.graphql import build_context
from app.portal.i18n import LANG_COOKIE, LANGUAGE_NAMES, LOCALES, negotiate, text
from models import Mode
from services.business_settings import origin_of

CSRF_COOKIE = "portal_csrf"
# Which business's portal this browser last used: lets the "expired link" page offer a new
# link. Not a secret (business ids are in every static link); never a credential.
BUSINESS_COOKIE = "portal_business"
BUSINESS_ID = re.compile(r"bus_[0-9a-z]{1,36}")
COLOR = re.compile(r"#[0-9A-F]{6}")
ORIGIN = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?")

BRANDING_FIELDS = "name locale logoUrl accentColor accentContrastColor linkColor"
# Every signed-in page asks for this along with its own fields.
FRAME_FIELDS = (
    f"business {{ id supportEmail portalLoginUrl branding {{ {BRANDING_FIELDS} }} }} "
    "me { locale }"
)

e = html.escape


def content_security_policy(logo_origin: str | None = None) -> str:
    """No inline script or style anywhere; images only from us, plus the merchant's logo host
    on pages that show the logo."""
    images = "'self'" + (f" {logo_origin}" if logo_origin else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; font-src 'self'; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


class PageError(Exception):
    def __init__(self, code: Any) -> None:
        super().__init__(code)
        self.code = code


async def execute(
    request: Request, response: Response | None, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Runs one operation of our schema with the request's cookie session."""
    state = request.app.state
    context = await build_context(
        state.settings, state.limiter, request, response, allow_cookie=True
    )
    result = await state.schema.execute(query, variable_values=variables, context_value=context)
    if result.errors:
        codes = {(error.extensions or {}).get("code") for error in result.errors}
        raise PageError(codes.pop() if len(codes) == 1 else "INTERNAL_SERVER_ERROR")
    return result.data or {}


def mode_of(request: Request) -> Mode:
    return Mode.TEST if request.url.path.startswith("/test/") else Mode.LIVE


def prefix_of(mode: Mode) -> str:
    return "/test" if mode == Mode.TEST else ""


async def csrf_ok(request: Request, form: Any) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = form.get("csrf")
    return bool(cookie) and isinstance(sent, str) and secrets.compare_digest(cookie, sent)


def safe_business_id(value: str | None) -> str | None:
    return value if value and BUSINESS_ID.fullmatch(value) else None


@dataclass
class Page:
    """One page being answered: its language, whose portal it is, and how it is framed."""

    request: Request
    locale: str
    branding: dict[str, Any] | None = None
    business_id: str | None = None
    support_email: str | None = None
    signed_in: bool = False
    section: str | None = None
    status: int = 200
    # Only pages with a copy button or a card form load our one small script; every page
    # works without it.
    script: bool = False

    # Words ------------------------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return text(self.locale, key, **values)

    # Where we are -----------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return mode_of(self.request)

    @property
    def prefix(self) -> str:
        return prefix_of(self.mode)

    def url(self, path: str) -> str:
        """A portal path in this page's mode: url('/portal/invoices')."""
        return e(self.prefix + path)

    # Forms ------------------------------------------------------------------------------------

    @property
    def csrf_token(self) -> str:
        token = getattr(self.request.state, "csrf", None)
        if token is None:
            token = self.request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
            self.request.state.csrf = token
        return str(token)

    def csrf_field(self) -> str:
        return f'<input type="hidden" name="csrf" value="{e(self.csrf_token)}">'

    def form(self, action: str, inner: str, css: str = "", label: str = "") -> str:
        """A POST form to one of our paths, with its CSRF token."""
        attrs = f' class="{css}"' if css else ""
        attrs += f' aria-label="{label}"' if label else ""
        return (
            f'<form method="post" action="{self.url(action)}"{attrs}>{self.csrf_field()}'
            f"{inner}</form>"
        )

    # The frame --------------------------------------------------------------------------------

    @property
    def business_name(self) -> str | None:
        return str(self.branding["name"]) if self.branding else None

    @property
    def logo_url(self) -> str | None:
        return str(self.branding["logoUrl"]) if self.branding and self.branding["logoUrl"] else None

    def _head(self, title: str) -> str:
        name = f" · {e(self.business_name)}" if self.business_name else ""
        script = '<script src="/static/portal.js" defer></script>' if self.script else ""
        styles = '<link rel="stylesheet" href="/static/portal.css">'
        if self.business_id and self.branding:
            styles += f'<link rel="stylesheet" href="/branding/{e(self.business_id)}.css">'
        return (
            '<head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}{name}</title>{styles}{script}</head>"
        )

    def _brand(self) -> str:
        home = self.url("/portal") if self.signed_in else ""
        logo = ""
        if self.logo_url:
            logo = (
                f'<img class="logo" src="{e(self.logo_url)}" alt="" referrerpolicy="no-referrer" '
                'width="40" height="40">'
            )
        name = e(self.business_name or self.t("portal_name"))
        inner = f'{logo}<span class="brand-name">{name}</span>'
        if home:
            return f'<a class="brand" href="{home}">{inner}</a>'
        return f'<div class="brand">{inner}</div>'

    def _nav(self) -> str:
        if not self.signed_in:
            return ""
        items = [
            ("overview", "/portal", "nav_overview"),
            ("subscriptions", "/portal/subscriptions", "nav_subscriptions"),
            ("invoices", "/portal/invoices", "nav_invoices"),
            ("license_keys", "/portal/license-keys", "nav_license_keys"),
            ("profile", "/portal/profile", "nav_profile"),
        ]
        links = "".join(
            f'<li><a href="{self.url(path)}"'
            + (' aria-current="page"' if section == self.section else "")
            + f">{self.t(key)}</a></li>"
            for section, path, key in items
        )
        return f'<nav class="site-nav" aria-label="{self.t("nav_label")}"><ul>{links}</ul></nav>'

    def _language_switch(self) -> str:
        """Signed in: a form that saves the choice. Before: links that keep it in a cookie."""
        label = self.t("language")
        if self.signed_in:
            buttons = "".join(
                f'<button type="submit" name="lang" value="{code}" lang="{code}" '
                f'class="link-button" aria-pressed="{"true" if code == self.locale else "false"}">'
                f"{LANGUAGE_NAMES[code]}</button>"
                for code in LOCALES
            )
            here = e(self.request.url.path)
            inner = f'<input type="hidden" name="next" value="{here}">{buttons}'
            return self.form("/portal/language", inner, "lang-switch", label)
        links = "".join(
            f'<a href="?lang={code}" lang="{code}" hreflang="{code}"'
            + (' aria-current="true"' if code == self.locale else "")
            + f">{LANGUAGE_NAMES[code]}</a>"
            for code in LOCALES
        )
        return f'<nav class="lang-switch" aria-label="{label}">{links}</nav>'

    def _sign_out(self) -> str:
        if not self.signed_in:
            return ""
        button = f'<button type="submit" class="secondary small">{self.t("sign_out")}</button>'
        return self.form("/portal/sign-out", button, "sign-out")

    def _footer(self) -> str:
        parts = []
        if self.support_email:
            address = e(self.support_email)
            parts.append(f'{self.t("support")} <a href="mailto:{address}">{address}</a>')
        return f'<footer class="site-footer"><p>{" · ".join(parts)}</p></footer>' if parts else ""

    def render(self, title: str, body: str, status: int | None = None) -> HTMLResponse:
        """`title` and `body` are HTML already (every value in them escaped)."""
        test_mode = (
            f'<p class="test-mode" role="note">{self.t("test_mode")}</p>'
            if self.mode == Mode.TEST
            else ""
        )
        doc = (
            f'<!doctype html><html lang="{self.locale}">{self._head(title)}<body>'
            f'<a class="skip-link" href="#main">{self.t("skip_to_main")}</a>{test_mode}'
            f'<header class="site-header"><div class="header-row">{self._brand()}'
            f'<div class="header-tools">{self._language_switch()}{self._sign_out()}</div></div>'
            f"{self._nav()}</header>"
            f'<main id="main" tabindex="-1"><h1>{title}</h1>{body}</main>{self._footer()}'
            "</body></html>"
        )
        response = HTMLResponse(doc, status_code=status or self.status)
        self._set_cookies(response)
        return response

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(self.prefix + path, status_code=303)

    def _set_cookies(self, response: Response) -> None:
        secure = self.request.app.state.settings.secure_cookies
        response.set_cookie(
            CSRF_COOKIE, self.csrf_token, httponly=True, samesite="strict", secure=secure, path="/"
        )
        if self.logo_url and self.branding and self.branding.get("logoOrigin"):
            response.headers["content-security-policy"] = content_security_policy(
                self.branding["logoOrigin"]
            )
        year = 365 * 24 * 3600
        if self.business_id and self.request.cookies.get(BUSINESS_COOKIE) != self.business_id:
            response.set_cookie(
                BUSINESS_COOKIE,
                self.business_id,
                max_age=year,
                httponly=True,
                samesite="lax",
                secure=secure,
                path="/",
            )
        explicit = self.request.query_params.get("lang")
        if explicit in LOCALES and self.request.cookies.get(LANG_COOKIE) != explicit:
            response.set_cookie(
                LANG_COOKIE,
                explicit,
                max_age=year,
                httponly=True,
                samesite="lax",
                secure=secure,
                path="/",
            )


def anonymous_page(request: Request, branding: dict[str, Any] | None = None) -> Page:
    business = str(branding["locale"]) if branding else None
    return Page(request, negotiate(request, business=business), branding=branding)


def with_logo_origin(branding: dict[str, Any] | None) -> dict[str, Any] | None:
    """The CSP names the logo's origin; computed here from the URL the API validated."""
    if branding is None:
        return None
    logo = branding.get("logoUrl")
    origin = origin_of(logo) if logo else None
    if origin is not None and not ORIGIN.fullmatch(origin):
        # Checked on the way in; checked again because this text becomes a header.
        return {**branding, "logoUrl": None, "logoOrigin": None}
    return {**branding, "logoOrigin": origin}


def error_box(message: str) -> str:
    return f'<div class="alert error" role="alert"><p>{message}</p></div>'


def notice_box(message: str) -> str:
    return f'<div class="alert success" role="status"><p>{message}</p></div>'


def remembered_business(request: Request) -> str | None:
    return safe_business_id(request.cookies.get(BUSINESS_COOKIE))
