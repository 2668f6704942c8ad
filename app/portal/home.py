"""The overview after signing in, the profile (view and edit) and the language switch."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, execute, mode_of, prefix_of
from app.portal.fields import SUBSCRIPTION_FIELDS, done_of
from app.portal.i18n import LANG_COOKIE, LOCALES

OVERVIEW_FIELDS = (
    "me { name email phoneNumber "
    f"subscriptions(first: 20) {{ edges {{ node {{ {SUBSCRIPTION_FIELDS} }} }} }} "
    "invoices(first: 3) { edges { node { id number status issuedAt total { amount currency } "
    "} } } licenseKeys(first: 1) { totalCount } }"
)


async def overview(request: Request) -> Response:
    result = await signed_in(request, "overview", OVERVIEW_FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    me = data["me"]
    return page.render(
        "overview.html",
        me=me,
        subscriptions=[edge["node"] for edge in me["subscriptions"]["edges"]],
        invoices=[edge["node"] for edge in me["invoices"]["edges"]],
        license_key_count=int(me["licenseKeys"]["totalCount"]),
    )


# Profile ----------------------------------------------------------------------------------

PROFILE_FIELDS = "me { name email phoneNumber locale }"

UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) { emailConfirmationSent userErrors { code message field } }
}"""

FIELD_OF_ERROR = {"name": "name", "email": "email", "phoneNumber": "phone", "locale": "locale"}


async def profile(request: Request) -> Response:
    result = await signed_in(request, "profile", PROFILE_FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    me = data["me"]
    values = {
        "name": me["name"] or "",
        "email": me["email"],
        "phone": me["phoneNumber"] or "",
        "locale": me["locale"] or "",
    }
    if request.method == "GET":
        done = done_of(request, "saved", "email_sent")
        return _profile_page(page, values, {}, None, done)
    form = await request.form()
    if not await csrf_ok(request, form):
        return _profile_page(page, values, {}, "bad_form", status=403)
    sent = {key: str(form.get(key, "")).strip()[:320] for key in ("name", "email", "phone")}
    locale = str(form.get("locale", ""))
    changes: dict[str, Any] = {
        "name": sent["name"] or None,
        "phoneNumber": sent["phone"] or None,
        "locale": locale if locale in LOCALES else None,
    }
    if sent["email"].casefold() != me["email"].casefold():
        changes["email"] = sent["email"]
    if not page.may("customersMayEditProfile"):
        # The form offers only the language then; nothing else is sent.
        changes = {"locale": changes["locale"]}
    try:
        data = await execute(request, None, UPDATE_PROFILE, {"input": changes})
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return page.redirect("/portal")
        raise
    payload = data["updateProfile"]
    if payload["userErrors"]:
        errors = {
            FIELD_OF_ERROR.get((err.get("field") or ["form"])[-1], "form"): err
            for err in payload["userErrors"]
        }
        return _profile_page(page, {**sent, "locale": locale}, errors, "fix_errors", status=400)
    done = "email_sent" if payload["emailConfirmationSent"] else "saved"
    response = page.redirect(f"/portal/profile?done={done}")
    if changes["locale"]:
        _remember_language(page, response, changes["locale"])
    else:
        response.delete_cookie(LANG_COOKIE, path="/")
    return response


def _profile_page(
    page: Page,
    values: dict[str, str],
    errors: dict[str, Any],
    alert: str | None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    return page.render("profile.html", status, values=values, errors=errors, alert=alert, done=done)


# The language switch ----------------------------------------------------------------------


def _remember_language(page: Page, response: Response, locale: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=page.request.app.state.settings.secure_cookies,
        path="/",
    )


def _safe_next(request: Request, value: str) -> str:
    """Only back to one of our portal pages, in this mode."""
    prefix = prefix_of(mode_of(request))
    allowed = value.startswith(f"{prefix}/portal") and "//" not in value and "\\" not in value
    return value if allowed else f"{prefix}/portal"


async def language(request: Request) -> Response:
    """Saves the customer's choice (it also decides the language of their emails)."""
    form = await request.form()
    target = _safe_next(request, str(form.get("next", "")))
    locale = str(form.get("lang", ""))
    response = RedirectResponse(target, status_code=303)
    if not await csrf_ok(request, form) or locale not in LOCALES:
        return response
    try:
        await execute(request, None, UPDATE_PROFILE, {"input": {"locale": locale}})
    except PageError as error:
        if error.code != "UNAUTHENTICATED":
            raise
    page = Page(request, locale)
    _remember_language(page, response, locale)
    return response
