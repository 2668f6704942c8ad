"""Getting in and out: the static login page, the landing page a link opens, the expired-link
page that offers a new link, email confirmation and signing out. Also the frame of every
signed-in page: who is signed in, in which language, for which business."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.auth import SESSION_COOKIE
from app.portal.core import (
    BRANDING_FIELDS,
    FRAME_FIELDS,
    Page,
    PageError,
    anonymous_page,
    csrf_ok,
    execute,
    mode_of,
    prefix_of,
    remembered_business,
    safe_business_id,
    with_logo_origin,
)
from app.portal.i18n import negotiate
from models import Mode

BRANDING_QUERY = f"query($id: ID!) {{ portalBranding(businessId: $id) {{ {BRANDING_FIELDS} }} }}"


async def branding_for(request: Request, business_id: str | None) -> dict[str, Any] | None:
    if not business_id:
        return None
    data = await execute(request, None, BRANDING_QUERY, {"id": business_id})
    return with_logo_origin(data["portalBranding"])


async def branded_page(request: Request, business_id: str | None) -> Page:
    branding = await branding_for(request, business_id)
    page = anonymous_page(request, branding)
    if branding is not None:
        page.business_id = business_id
    return page


# Signed-in pages ------------------------------------------------------------------------------


async def signed_in(
    request: Request,
    section: str | None,
    fields: str,
    variables: dict[str, Any] | None = None,
    var_defs: str = "",
) -> tuple[Page, dict[str, Any]] | Response:
    """Runs a signed-in page's query along with the frame's fields. Answers with the
    session-ended page (401), a 404, or a redirect to the session's mode where needed."""
    query = f"query Portal{var_defs} {{ {FRAME_FIELDS} {fields} }}"
    try:
        data = await execute(request, None, query, variables or {})
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await session_ended(request)
        if error.code == "NOT_FOUND":
            return anonymous_page(request).render("not_found.html", 404)
        raise
    business = data["business"]
    session_mode = Mode.TEST if "/test/login/" in business["portalLoginUrl"] else Mode.LIVE
    if session_mode != mode_of(request):
        path = request.url.path.removeprefix("/test")
        return RedirectResponse(prefix_of(session_mode) + path, status_code=303)
    branding = with_logo_origin(business["branding"])
    page = Page(
        request,
        negotiate(request, saved=data["me"]["locale"], business=branding["locale"]),  # type: ignore[index]
        branding=branding,
        business_id=business["id"],
        support_email=business["supportEmail"],
        return_url=business["returnUrl"],
        time_zone=business["timeZone"],
        signed_in=True,
        section=section,
        allowed=business["portalSettings"],
    )
    return page, data


# The static login page ------------------------------------------------------------------------


async def login_page(request: Request) -> Response:
    business_id = request.path_params["business_id"]
    page = await branded_page(request, business_id)
    values: dict[str, Any] = {"business_id": business_id, "email": "", "invalid": False}
    if request.method == "GET":
        return page.render("login.html", alert=None, **values)
    form = await request.form()
    email = str(form.get("email", ""))[:320]
    if not await csrf_ok(request, form):
        return page.render("login.html", 403, alert="bad_form", **values)
    try:
        data = await execute(
            request,
            None,
            "mutation($input: RequestLoginLinkInput!) { requestLoginLink(input: $input) "
            "{ userErrors { code } } }",
            {"input": {"businessId": business_id, "email": email, "mode": page.mode.name}},
        )
    except PageError as error:
        if error.code == "RATE_LIMITED":
            return page.render("login.html", 429, alert="rate_limited", **values)
        raise
    if data["requestLoginLink"]["userErrors"]:
        return page.render(
            "login.html", 400, alert=None, **{**values, "email": email, "invalid": True}
        )
    return page.render("login_sent.html", email=email)


# Links from emails ----------------------------------------------------------------------------


# Where a link we email may lead once signed in (`?next=`): only the page that confirms a
# payment with the bank. Anything else is the overview; never another site.
NEXT_PAGE = re.compile(
    r"/portal/subscriptions/sub_[0-9A-Za-z]{1,40}/authenticate\?payment=pay_[0-9A-Za-z]{1,40}"
)


def safe_next(value: str | None) -> str | None:
    return value if value and NEXT_PAGE.fullmatch(value) else None


async def session_page(request: Request) -> Response:
    """GET only shows a button: mail scanners open links, and must not use up the token."""
    page = anonymous_page(request)
    token = request.path_params["token"]
    if request.method == "GET":
        after = safe_next(request.query_params.get("next"))
        return page.render("session.html", token=token, alert=None, next=after)
    form = await request.form()
    after = safe_next(str(form.get("next", "")))
    if not await csrf_ok(request, form):
        return page.render("session.html", 403, token=token, alert="bad_form", next=after)
    response = RedirectResponse(f"{page.prefix}{after or '/portal'}", status_code=303)
    data = await execute(
        request,
        response,
        "mutation($input: SignInInput!) { signIn(input: $input) "
        "{ sessionToken businessId userErrors { code } } }",
        {"input": {"token": token, "mode": page.mode.name}},
    )
    if data["signIn"]["userErrors"]:
        # The link's own business when signIn knows it (any device), else this browser's last.
        return await expired_page(request, safe_business_id(data["signIn"]["businessId"]))
    return response


async def _new_link_page(request: Request, business_id: str | None = None) -> Page:
    """A page framed for the link's business (when signIn named it) or else the business
    whose portal this browser used before, if any: its template offers to email a new
    sign-in link for it (the static login page's request)."""
    business_id = business_id or remembered_business(request)
    try:
        return await branded_page(request, business_id)
    except PageError:
        return anonymous_page(request)


async def expired_page(request: Request, business_id: str | None = None) -> Response:
    return (await _new_link_page(request, business_id)).render("expired.html", 410)


async def session_ended(request: Request) -> Response:
    return (await _new_link_page(request)).render("session_ended.html", 401)


async def confirm_email_page(request: Request) -> Response:
    page = anonymous_page(request)
    token = request.path_params["token"]
    if request.method == "GET":
        return page.render("confirm_email.html", token=token, alert=None, show_form=True)
    form = await request.form()
    if not await csrf_ok(request, form):
        return page.render("confirm_email.html", 403, token=token, alert="bad_form", show_form=True)
    data = await execute(
        request,
        None,
        "mutation($input: ConfirmEmailChangeInput!) { confirmEmailChange(input: $input) "
        "{ customer { email } userErrors { code message } } }",
        {"input": {"token": token, "mode": page.mode.name}},
    )
    result = data["confirmEmailChange"]
    if result["userErrors"]:
        code = result["userErrors"][0]["code"]
        if code == "LINK_EXPIRED":
            return await expired_page(request)
        alert = code if code == "EMAIL_TAKEN" else "generic"
        return page.render("confirm_email.html", 409, token=token, alert=alert, show_form=False)
    return page.render("email_confirmed.html", email=result["customer"]["email"])


async def sign_out(request: Request) -> Response:
    page = await _new_link_page(request)
    form = await request.form()
    if not await csrf_ok(request, form):
        return page.render("signed_out.html", 403, alert="bad_form")
    response = page.render("signed_out.html", alert=None)
    with contextlib.suppress(PageError):  # already signed out
        await execute(request, response, "mutation { signOut { userErrors { code } } }", {})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
