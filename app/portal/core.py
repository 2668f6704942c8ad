"""What every hosted page shares: running our own GraphQL in-process, the page's frame (which
business, which language, signed in or not) for its template, CSRF, cookies and the
Content-Security-Policy.

The pages are clients of our GraphQL schema: every read and every action is a GraphQL operation
run with the request's own credentials, so a page can do nothing the API does not allow."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.graphql import build_context
from app.portal.i18n import LANG_COOKIE, LANGUAGE_NAMES, LOCALES, negotiate
from app.portal.templating import PageTemplates
from models import Mode
from services.business_settings import origin_of

CSRF_COOKIE = "portal_csrf"
# Which business's portal this browser last used: lets the "expired link" page offer a new
# link. Not a secret (business ids are in every static link); never a credential.
BUSINESS_COOKIE = "portal_business"
BUSINESS_ID = re.compile(r"bus_[0-9a-z]{1,36}")
COLOR = re.compile(r"#[0-9A-F]{6}")
RETURN_URL = re.compile(r"https?://[^\s\\]+\Z")
ORIGIN = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?")

BRANDING_FIELDS = "name locale logoUrl accentColor accentContrastColor linkColor"
# What the business lets customers do: pages offer only what is allowed.
ALLOWED_FIELDS = (
    "customerCancellation customersMayPause customersMayChangePlan "
    "customersMayUpdatePaymentMethods customersMayEditProfile customersMaySeeInvoices "
    "customersMayRestart"
)
# Every signed-in page asks for this along with its own fields.
FRAME_FIELDS = (
    f"business {{ id supportEmail portalLoginUrl returnUrl timeZone "
    f"branding {{ {BRANDING_FIELDS} }} "
    f"portalSettings {{ {ALLOWED_FIELDS} }} }} "
    "me { locale }"
)


def content_security_policy(
    logo_origin: str | None = None, stripe_origins: tuple[str, ...] = ()
) -> str:
    """No inline script or style anywhere; images only from us, plus the merchant's logo host
    on pages that show the logo. Pages that take a card for a business on Stripe also allow
    Stripe.js: its script, the API it talks to and the frames of its fields and of 3-D
    Secure (`stripe_origins`, from PORTAL_STRIPE_JS_URL and PORTAL_STRIPE_API_BASE)."""
    images = "'self'" + (f" {logo_origin}" if logo_origin else "")
    stripe = "".join(f" {origin}" for origin in stripe_origins)
    frames = f"frame-src{stripe}; " if stripe else ""
    return (
        f"default-src 'self'; script-src 'self'{stripe}; style-src 'self'; "
        f"img-src {images}; font-src 'self'; connect-src 'self'{stripe}; {frames}"
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


def stripe_origins(js_url: str, api_base: str) -> tuple[str, ...]:
    """The origins a page running Stripe.js must allow. Stripe's own script also opens frames
    from hooks.stripe.com (3-D Secure); a stand-in (localstripe in tests) serves everything
    from its own origin."""
    found: list[str] = []
    for url in (js_url, api_base):
        origin = origin_of(url)
        if ORIGIN.fullmatch(origin) and origin not in found:
            found.append(origin)
    if "https://js.stripe.com" in found:
        found.append("https://hooks.stripe.com")
    return tuple(found)


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
    return bool(cookie) and isinstance(sent, str) and secrets.compare_digest(cookie or "", sent)


def safe_business_id(value: str | None) -> str | None:
    return value if value and BUSINESS_ID.fullmatch(value) else None


@dataclass
class Page:
    """One page being answered: its language, whose portal it is, and how it is framed. The
    page's template gets it as `page` (see the README for what it holds)."""

    request: Request
    locale: str
    branding: dict[str, Any] | None = None
    business_id: str | None = None
    support_email: str | None = None
    # The "Back to {business}" link of signed-in pages: the session's returnUrl or the
    # business's default, both checked by the API when the merchant set them.
    return_url: str | None = None
    # The business's IANA time zone: dates on signed-in pages are its calendar days.
    time_zone: str = "UTC"
    signed_in: bool = False
    section: str | None = None
    status: int = 200
    # Only pages with a copy button or a card form load our one small script; every page
    # works without it.
    script: bool = False
    # The business's portal settings (Business.portalSettings) on signed-in pages.
    allowed: dict[str, Any] | None = None

    def may(self, setting: str) -> bool:
        """Whether the business allows what `setting` (a portalSettings field) names."""
        return bool(self.allowed and self.allowed.get(setting))

    @property
    def cancellation(self) -> str:
        """NOW, AT_PERIOD_END or NOT_ALLOWED."""
        return str((self.allowed or {}).get("customerCancellation", "NOT_ALLOWED"))

    # Pages that take a card for a business on Stripe: its publishable key. The page then
    # loads Stripe.js (PORTAL_STRIPE_JS_URL) and the CSP allows it.
    stripe_key: str | None = None

    # Where we are -----------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return mode_of(self.request)

    @property
    def test_mode(self) -> bool:
        return self.mode == Mode.TEST

    @property
    def prefix(self) -> str:
        return prefix_of(self.mode)

    @property
    def path(self) -> str:
        return self.request.url.path

    def url(self, path: str) -> str:
        """A portal path in this page's mode: url('/portal/invoices')."""
        return self.prefix + path

    @property
    def languages(self) -> list[tuple[str, str]]:
        """(code, name) of each language the portal speaks, for the language switch."""
        return [(code, LANGUAGE_NAMES[code]) for code in LOCALES]

    # Forms ------------------------------------------------------------------------------------

    @property
    def csrf_token(self) -> str:
        token = getattr(self.request.state, "csrf", None)
        if token is None:
            token = self.request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
            self.request.state.csrf = token
        return str(token)

    # The frame --------------------------------------------------------------------------------

    @property
    def business_name(self) -> str | None:
        return str(self.branding["name"]) if self.branding else None

    @property
    def logo_url(self) -> str | None:
        return str(self.branding["logoUrl"]) if self.branding and self.branding["logoUrl"] else None

    @property
    def back_link(self) -> str | None:
        """The return link, when it is one a page may show: checked on the way in, and its
        scheme checked again here because this text becomes an href."""
        url = self.return_url
        if url and RETURN_URL.match(url):
            return url
        return None

    @property
    def branding_stylesheet(self) -> str | None:
        """Our stylesheet with the business's colours (the CSP allows no inline style)."""
        if self.business_id and self.branding:
            return f"/branding/{self.business_id}.css"
        return None

    @property
    def stripe_js_url(self) -> str | None:
        if not self.stripe_key:
            return None
        return str(self.request.app.state.settings.stripe_js_url)

    def render(self, template: str, status: int | None = None, **context: Any) -> Response:
        """The page's template with `page` and the page's own values; every value is escaped
        by the template."""
        templates: PageTemplates = self.request.app.state.templates
        response = templates.response(
            self.request, self.locale, template, {"page": self, **context}, status or self.status
        )
        self._set_cookies(response)
        return response

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(self.prefix + path, status_code=303)

    def _set_cookies(self, response: Response) -> None:
        secure = self.request.app.state.settings.secure_cookies
        response.set_cookie(
            CSRF_COOKIE, self.csrf_token, httponly=True, samesite="strict", secure=secure, path="/"
        )
        logo = self.branding.get("logoOrigin") if self.logo_url and self.branding else None
        if logo or self.stripe_key:
            settings = self.request.app.state.settings
            stripe = (
                stripe_origins(settings.stripe_js_url, settings.stripe_api_base)
                if self.stripe_key
                else ()
            )
            response.headers["content-security-policy"] = content_security_policy(logo, stripe)
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


def remembered_business(request: Request) -> str | None:
    return safe_business_id(request.cookies.get(BUSINESS_COOKIE))
