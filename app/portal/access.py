"""Getting in and out: the static login page, the landing page a link opens, the expired-link
page that offers a new link, email confirmation and signing out. Also the frame of every
signed-in page: who is signed in, in which language, for which business."""

from __future__ import annotations

import contextlib
import html
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
    error_box,
    execute,
    mode_of,
    notice_box,
    prefix_of,
    remembered_business,
    with_logo_origin,
)
from app.portal.i18n import negotiate
from models import Mode

e = html.escape

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
            page = anonymous_page(request)
            return page.render(page.t("not_found_title"), f"<p>{page.t('not_found')}</p>", 404)
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
        signed_in=True,
        section=section,
    )
    return page, data


# The static login page ------------------------------------------------------------------------


def _login_form(page: Page, business_id: str, error: str = "", email: str = "") -> str:
    error_html = f'<p class="error" id="email-error" role="alert">{error}</p>' if error else ""
    described = ' aria-describedby="email-error" aria-invalid="true"' if error else ""
    action = f"/login/{business_id}"
    fields = (
        f'<label for="email">{page.t("email")}</label>{error_html}'
        f'<input id="email" name="email" type="email" autocomplete="email" required '
        f'spellcheck="false" value="{e(email)}"{described}>'
        f'<button type="submit">{page.t("send_link")}</button>'
    )
    return page.form(action, fields, "stack")


async def login_page(request: Request) -> Response:
    business_id = request.path_params["business_id"]
    page = await branded_page(request, business_id)
    title = page.t("login_title")
    intro = f"<p>{page.t('login_intro')}</p>"
    if request.method == "GET":
        return page.render(title, intro + _login_form(page, business_id))
    form = await request.form()
    email = str(form.get("email", ""))[:320]
    if not await csrf_ok(request, form):
        body = error_box(page.t("bad_form")) + intro + _login_form(page, business_id)
        return page.render(title, body, 403)
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
            return page.render(title, error_box(page.t("rate_limited")), 429)
        raise
    if data["requestLoginLink"]["userErrors"]:
        form_html = _login_form(page, business_id, page.t("invalid_email"), email)
        return page.render(title, intro + form_html, 400)
    body = notice_box(page.t("sent_body", email=email)) + f"<p>{page.t('sent_hint')}</p>"
    return page.render(page.t("sent_title"), body)


# Links from emails ----------------------------------------------------------------------------


def _button_form(page: Page, action: str, intro_key: str, button_key: str) -> str:
    return f"<p>{page.t(intro_key)}</p>" + page.form(
        action, f'<button type="submit">{page.t(button_key)}</button>'
    )


async def session_page(request: Request) -> Response:
    """GET only shows a button: mail scanners open links, and must not use up the token."""
    page = anonymous_page(request)
    action = f"/session/{request.path_params['token']}"
    title = page.t("continue_title")
    if request.method == "GET":
        return page.render(title, _button_form(page, action, "continue_body", "continue"))
    form = await request.form()
    if not await csrf_ok(request, form):
        body = error_box(page.t("bad_form")) + _button_form(
            page, action, "continue_body", "continue"
        )
        return page.render(title, body, 403)
    response = RedirectResponse(f"{page.prefix}/portal", status_code=303)
    data = await execute(
        request,
        response,
        "mutation($input: SignInInput!) { signIn(input: $input) "
        "{ sessionToken userErrors { code } } }",
        {"input": {"token": request.path_params["token"], "mode": page.mode.name}},
    )
    if data["signIn"]["userErrors"]:
        return await expired_page(request)
    return response


async def _new_link_offer(request: Request) -> tuple[Page, str]:
    """The page's frame and, when this browser used a business's portal before, a form that
    emails a new sign-in link for it (the static login page's request, nothing more)."""
    business_id = remembered_business(request)
    try:
        page = await branded_page(request, business_id)
    except PageError:
        page = anonymous_page(request)
    if page.business_id is None:
        return page, f"<p>{page.t('ask_for_link')}</p>"
    assert page.business_name is not None
    intro = page.t("new_link_intro", business=page.business_name)
    offer = f"<h2>{page.t('new_link_heading')}</h2><p>{intro}</p>"
    return page, offer + _login_form(page, page.business_id)


async def expired_page(request: Request) -> Response:
    page, offer = await _new_link_offer(request)
    body = f"<p>{page.t('expired_body')}</p>{offer}"
    return page.render(page.t("expired_title"), body, 410)


async def session_ended(request: Request) -> Response:
    page, offer = await _new_link_offer(request)
    body = f"<p>{page.t('ended_body')}</p>{offer}"
    return page.render(page.t("ended_title"), body, 401)


async def confirm_email_page(request: Request) -> Response:
    page = anonymous_page(request)
    action = f"/confirm-email/{request.path_params['token']}"
    title = page.t("confirm_title")
    if request.method == "GET":
        return page.render(title, _button_form(page, action, "confirm_body", "confirm"))
    form = await request.form()
    if not await csrf_ok(request, form):
        body = error_box(page.t("bad_form")) + _button_form(page, action, "confirm_body", "confirm")
        return page.render(title, body, 403)
    data = await execute(
        request,
        None,
        "mutation($input: ConfirmEmailChangeInput!) { confirmEmailChange(input: $input) "
        "{ customer { email } userErrors { code message } } }",
        {"input": {"token": request.path_params["token"], "mode": page.mode.name}},
    )
    result = data["confirmEmailChange"]
    if result["userErrors"]:
        code = result["userErrors"][0]["code"]
        if code == "LINK_EXPIRED":
            return await expired_page(request)
        message = page.t("error_EMAIL_TAKEN") if code == "EMAIL_TAKEN" else page.t("error_generic")
        return page.render(title, error_box(message), 409)
    body = notice_box(page.t("confirmed_body", email=result["customer"]["email"]))
    body += f'<p><a href="{page.url("/portal/profile")}">{page.t("to_profile")}</a></p>'
    return page.render(page.t("confirmed_title"), body)


async def sign_out(request: Request) -> Response:
    page, offer = await _new_link_offer(request)
    form = await request.form()
    if not await csrf_ok(request, form):
        return page.render(page.t("signed_out_title"), error_box(page.t("bad_form")), 403)
    body = notice_box(page.t("signed_out")) + offer
    response = page.render(page.t("signed_out_title"), body)
    with contextlib.suppress(PageError):  # already signed out
        await execute(request, response, "mutation { signOut { userErrors { code } } }", {})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
