"""The small hosted pages the links open. They are clients of our own GraphQL schema: every
action runs a GraphQL operation in-process, so a page can do nothing the API does not allow."""

from __future__ import annotations

import contextlib
import html
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.auth import SESSION_COOKIE
from app.graphql import build_context
from models import Mode

CSRF_COOKIE = "portal_csrf"

TEXT = {
    "en": {
        "login_title": "Sign in to your customer portal",
        "login_intro": "Enter the email address you used for your purchase. We will email you a "
        "link to sign in.",
        "email": "Email address",
        "send_link": "Email me a sign-in link",
        "sent_title": "Check your email",
        "sent_body": "If {email} belongs to a customer account here, a sign-in link is on its way. "
        "It works once.",
        "invalid_email": "Please enter a valid email address.",
        "rate_limited": "Too many requests. Please wait a while and try again.",
        "continue_title": "Continue to your customer portal",
        "continue_body": "Press the button to sign in. The link works once.",
        "continue": "Sign in",
        "expired_title": "This link has expired",
        "expired_body": "Sign-in links work once and expire. Ask for a new one.",
        "new_link": "Get a new link",
        "portal_title": "Your customer portal",
        "name": "Name",
        "phone": "Phone",
        "sign_out": "Sign out",
        "signed_out": "You are signed out.",
        "confirm_title": "Confirm your new email address",
        "confirm_body": "Press the button to use this address for your account.",
        "confirm": "Confirm email address",
        "confirmed_title": "Email address changed",
        "confirmed_body": "Your account now uses {email}.",
        "bad_form": "The form has expired. Please try again.",
        "not_found": "Page not found.",
    },
    "de": {
        "login_title": "Anmeldung zum Kundenportal",
        "login_intro": "Geben Sie die E-Mail-Adresse ein, die Sie beim Kauf verwendet haben. "
        "Wir senden Ihnen einen Anmeldelink.",
        "email": "E-Mail-Adresse",
        "send_link": "Anmeldelink senden",
        "sent_title": "Bitte prüfen Sie Ihr Postfach",
        "sent_body": "Wenn {email} zu einem Kundenkonto hier gehört, ist ein Anmeldelink "
        "unterwegs. Er funktioniert einmal.",
        "invalid_email": "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        "rate_limited": "Zu viele Anfragen. Bitte warten Sie etwas und versuchen Sie es erneut.",
        "continue_title": "Weiter zu Ihrem Kundenportal",
        "continue_body": "Klicken Sie auf die Schaltfläche, um sich anzumelden. Der Link "
        "funktioniert einmal.",
        "continue": "Anmelden",
        "expired_title": "Dieser Link ist abgelaufen",
        "expired_body": "Anmeldelinks funktionieren einmal und laufen ab. Fordern Sie einen "
        "neuen an.",
        "new_link": "Neuen Link anfordern",
        "portal_title": "Ihr Kundenportal",
        "name": "Name",
        "phone": "Telefon",
        "sign_out": "Abmelden",
        "signed_out": "Sie sind abgemeldet.",
        "confirm_title": "Neue E-Mail-Adresse bestätigen",
        "confirm_body": "Klicken Sie auf die Schaltfläche, um diese Adresse für Ihr Konto zu "
        "verwenden.",
        "confirm": "E-Mail-Adresse bestätigen",
        "confirmed_title": "E-Mail-Adresse geändert",
        "confirmed_body": "Ihr Konto verwendet jetzt {email}.",
        "bad_form": "Das Formular ist abgelaufen. Bitte versuchen Sie es erneut.",
        "not_found": "Seite nicht gefunden.",
    },
}


def _locale(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in TEXT:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in TEXT:
            return tag
    return "en"


@dataclass
class Page:
    request: Request
    locale: str

    def t(self, key: str, **values: str) -> str:
        return html.escape(TEXT[self.locale][key].format(**values))

    def render(self, title_key: str, body: str, status: int = 200) -> HTMLResponse:
        title = self.t(title_key)
        doc = (
            f'<!doctype html><html lang="{self.locale}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{title}</title><link rel="stylesheet" href="/static/portal.css"></head>'
            f'<body><main id="main"><h1>{title}</h1>{body}</main></body></html>'
        )
        return HTMLResponse(doc, status_code=status)

    def csrf_field(self) -> str:
        return f'<input type="hidden" name="csrf" value="{html.escape(self.csrf_token)}">'

    @property
    def csrf_token(self) -> str:
        token = getattr(self.request.state, "csrf", None)
        if token is None:
            token = self.request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
            self.request.state.csrf = token
        return token


def _page(request: Request) -> Page:
    return Page(request, _locale(request))


def _mode(request: Request) -> Mode:
    return Mode.TEST if request.url.path.startswith("/test/") else Mode.LIVE


def _prefix(mode: Mode) -> str:
    return "/test" if mode == Mode.TEST else ""


def _with_csrf_cookie(page: Page, response: Response) -> Response:
    response.set_cookie(
        CSRF_COOKIE,
        page.csrf_token,
        httponly=True,
        samesite="strict",
        secure=page.request.app.state.settings.secure_cookies,
        path="/",
    )
    return response


async def _csrf_ok(request: Request, form: Any) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = form.get("csrf")
    return bool(cookie) and isinstance(sent, str) and secrets.compare_digest(cookie, sent)


async def _execute(
    request: Request, response: Response | None, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    state = request.app.state
    context = await build_context(
        state.settings, state.limiter, request, response, allow_cookie=True
    )
    result = await state.schema.execute(query, variable_values=variables, context_value=context)
    if result.errors:
        codes = {(e.extensions or {}).get("code") for e in result.errors}
        raise PageError(codes.pop() if len(codes) == 1 else "INTERNAL_SERVER_ERROR")
    return result.data or {}


class PageError(Exception):
    def __init__(self, code: Any) -> None:
        super().__init__(code)
        self.code = code


def _login_form(page: Page, business_id: str, error: str = "", email: str = "") -> str:
    error_html = f'<p class="error" id="email-error" role="alert">{error}</p>' if error else ""
    described = ' aria-describedby="email-error" aria-invalid="true"' if error else ""
    return (
        f"<p>{page.t('login_intro')}</p>{error_html}"
        f'<form method="post" novalidate>{page.csrf_field()}'
        f'<label for="email">{page.t("email")}</label>'
        f'<input id="email" name="email" type="email" autocomplete="email" required '
        f'value="{html.escape(email)}"{described}>'
        f'<button type="submit">{page.t("send_link")}</button></form>'
    )


async def login_page(request: Request) -> Response:
    page = _page(request)
    business_id = request.path_params["business_id"]
    if request.method == "GET":
        return _with_csrf_cookie(page, page.render("login_title", _login_form(page, business_id)))
    form = await request.form()
    email = str(form.get("email", ""))[:320]
    if not await _csrf_ok(request, form):
        body = f'<p class="error" role="alert">{page.t("bad_form")}</p>'
        return _with_csrf_cookie(
            page, page.render("login_title", body + _login_form(page, business_id), 403)
        )
    try:
        data = await _execute(
            request,
            None,
            "mutation($input: RequestLoginLinkInput!) { requestLoginLink(input: $input) "
            "{ userErrors { code } } }",
            {"input": {"businessId": business_id, "email": email, "mode": _mode(request).name}},
        )
    except PageError as error:
        if error.code == "RATE_LIMITED":
            body = f'<p class="error" role="alert">{page.t("rate_limited")}</p>'
            return page.render("login_title", body, 429)
        raise
    if data["requestLoginLink"]["userErrors"]:
        form_html = _login_form(page, business_id, page.t("invalid_email"), email)
        return _with_csrf_cookie(page, page.render("login_title", form_html, 400))
    body = f'<p role="status">{page.t("sent_body", email=email)}</p>'
    return page.render("sent_title", body)


def _button_form(page: Page, intro_key: str, button_key: str) -> str:
    return (
        f'<p>{page.t(intro_key)}</p><form method="post">{page.csrf_field()}'
        f'<button type="submit">{page.t(button_key)}</button></form>'
    )


async def session_page(request: Request) -> Response:
    """GET only shows a button: mail scanners open links, and must not use up the token."""
    page = _page(request)
    if request.method == "GET":
        body = _button_form(page, "continue_body", "continue")
        return _with_csrf_cookie(page, page.render("continue_title", body))
    form = await request.form()
    if not await _csrf_ok(request, form):
        body = f'<p class="error" role="alert">{page.t("bad_form")}</p>'
        body += _button_form(page, "continue_body", "continue")
        return _with_csrf_cookie(page, page.render("continue_title", body, 403))
    mode = _mode(request)
    response = RedirectResponse(f"{_prefix(mode)}/portal", status_code=303)
    data = await _execute(
        request,
        response,
        "mutation($input: SignInInput!) { signIn(input: $input) "
        "{ sessionToken userErrors { code } } }",
        {"input": {"token": request.path_params["token"], "mode": mode.name}},
    )
    if data["signIn"]["userErrors"]:
        return expired_page(page)
    return response


def expired_page(page: Page) -> Response:
    body = f"<p>{page.t('expired_body')}</p>"
    return page.render("expired_title", body, 410)


async def portal_home(request: Request) -> Response:
    page = _page(request)
    try:
        data = await _execute(
            request,
            None,
            "{ me { email name phoneNumber } business { name portalLoginUrl } }",
            {},
        )
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return page.render("expired_title", f"<p>{page.t('expired_body')}</p>", 401)
        raise
    me, business = data["me"], data["business"]
    rows = "".join(
        f"<dt>{page.t(label)}</dt><dd>{html.escape(value or '-')}</dd>"
        for label, value in (
            ("name", me["name"]),
            ("email", me["email"]),
            ("phone", me["phoneNumber"]),
        )
    )
    body = (
        f"<p>{html.escape(business['name'])}</p><dl>{rows}</dl>"
        f'<form method="post" action="{_prefix(_mode(request))}/portal/sign-out">'
        f'{page.csrf_field()}<button type="submit" class="secondary">{page.t("sign_out")}</button>'
        "</form>"
    )
    return _with_csrf_cookie(page, page.render("portal_title", body))


async def sign_out(request: Request) -> Response:
    page = _page(request)
    form = await request.form()
    if not await _csrf_ok(request, form):
        return page.render("portal_title", f'<p class="error">{page.t("bad_form")}</p>', 403)
    response = page.render("portal_title", f'<p role="status">{page.t("signed_out")}</p>')
    with contextlib.suppress(PageError):  # already signed out
        await _execute(request, response, "mutation { signOut { userErrors { code } } }", {})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def confirm_email_page(request: Request) -> Response:
    page = _page(request)
    if request.method == "GET":
        body = _button_form(page, "confirm_body", "confirm")
        return _with_csrf_cookie(page, page.render("confirm_title", body))
    form = await request.form()
    if not await _csrf_ok(request, form):
        body = _button_form(page, "confirm_body", "confirm")
        return _with_csrf_cookie(page, page.render("confirm_title", body, 403))
    data = await _execute(
        request,
        None,
        "mutation($input: ConfirmEmailChangeInput!) { confirmEmailChange(input: $input) "
        "{ customer { email } userErrors { code message } } }",
        {"input": {"token": request.path_params["token"], "mode": _mode(request).name}},
    )
    result = data["confirmEmailChange"]
    if result["userErrors"]:
        if result["userErrors"][0]["code"] == "LINK_EXPIRED":
            return expired_page(page)
        message = html.escape(result["userErrors"][0]["message"])
        return page.render("confirm_title", f'<p class="error" role="alert">{message}</p>', 409)
    body = f'<p role="status">{page.t("confirmed_body", email=result["customer"]["email"])}</p>'
    return page.render("confirmed_title", body)


def page_routes() -> list[Route]:
    routes = []
    for prefix in ("", "/test"):
        routes += [
            Route(f"{prefix}/login/{{business_id}}", login_page, methods=["GET", "POST"]),
            Route(f"{prefix}/session/{{token}}", session_page, methods=["GET", "POST"]),
            Route(f"{prefix}/confirm-email/{{token}}", confirm_email_page, methods=["GET", "POST"]),
            Route(f"{prefix}/portal", portal_home, methods=["GET"]),
            Route(f"{prefix}/portal/sign-out", sign_out, methods=["POST"]),
        ]
    return routes
