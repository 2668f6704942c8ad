"""The overview after signing in, the profile (view and edit) and the language switch."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, error_box, execute, mode_of, prefix_of
from app.portal.i18n import DASH, LANG_COOKIE, LANGUAGE_NAMES, LOCALES, has_text
from app.portal.widgets import (
    SUBSCRIPTION_FIELDS,
    badge,
    definition_list,
    done_notice,
    on_hold_banner,
    pdf_link,
    renewal_line,
    subscription_badge,
)

e = html.escape

OVERVIEW_FIELDS = (
    "me { name email phoneNumber "
    f"subscriptions(first: 20) {{ edges {{ node {{ {SUBSCRIPTION_FIELDS} }} }} }} "
    "invoices(first: 3) { edges { node { id number status issuedAt total { amount currency } "
    "} } } licenseKeys(first: 1) { totalCount } }"
)


def _dash(value: str | None) -> str:
    return e(value) if value else DASH


async def overview(request: Request) -> Response:
    result = await signed_in(request, "overview", OVERVIEW_FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    me = data["me"]
    subs = [edge["node"] for edge in me["subscriptions"]["edges"]]
    banners = "".join(on_hold_banner(page, sub) for sub in subs if sub["status"] == "ON_HOLD")
    greeting = page.t("greeting", name=me["name"]) if me["name"] else page.t("greeting_anon")
    body = f'<p class="lead">{greeting}</p>{banners}'

    items = "".join(
        f'<li><a href="{page.url("/portal/subscriptions/" + sub["id"])}">'
        f"{e(sub['product']['name'])}</a> {subscription_badge(page, sub)}"
        f'<span class="muted">{renewal_line(page, sub)}</span></li>'
        for sub in subs[:5]
    )
    subs_html = f'<ul class="plain-list">{items}</ul>' if items else f"<p>{page.t('no_subs')}</p>"
    body += _card(page, "subscriptions", subs_html, "/portal/subscriptions", "all_subscriptions")

    invoices = [edge["node"] for edge in me["invoices"]["edges"]]
    rows = "".join(
        f"<li>{e(inv['number'])} {badge(page, inv['status'])} {pdf_link(page, inv)}</li>"
        for inv in invoices
    )
    inv_html = f'<ul class="plain-list">{rows}</ul>' if rows else f"<p>{page.t('no_invoices')}</p>"
    body += _card(page, "invoices", inv_html, "/portal/invoices", "all_invoices")

    keys = int(me["licenseKeys"]["totalCount"])
    if keys:
        keys_html = f"<p>{page.t('license_keys_count', count=keys)}</p>"
        body += _card(page, "license_keys", keys_html, "/portal/license-keys", "all_license_keys")

    profile = definition_list(
        [
            (page.t("name"), _dash(me["name"])),
            (page.t("email"), _dash(me["email"])),
            (page.t("phone"), _dash(me["phoneNumber"])),
        ]
    )
    body += _card(page, "profile", profile, "/portal/profile", "edit_profile")
    return page.render(page.t("overview_title"), f'<div class="cards">{body}</div>')


def _card(page: Page, key: str, inner: str, path: str, link_key: str) -> str:
    return (
        f'<section class="card" aria-labelledby="card-{key}"><h2 id="card-{key}">'
        f"{page.t('nav_' + key)}</h2>{inner}"
        f'<p class="card-link"><a href="{page.url(path)}">{page.t(link_key)}</a></p></section>'
    )


# Profile ----------------------------------------------------------------------------------

PROFILE_FIELDS = "me { name email phoneNumber locale }"

UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) { emailConfirmationSent userErrors { code message field } }
}"""

FIELD_OF_ERROR = {"name": "name", "email": "email", "phoneNumber": "phone", "locale": "locale"}


def _field(
    page: Page, name: str, label_key: str, value: str, errors: dict[str, str], **attrs: str
) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{val}"' for key, val in attrs.items())
    hint = ""
    described: list[str] = []
    if label_key == "phone":
        hint = f'<p class="hint" id="phone-hint">{page.t("phone_hint")}</p>'
        described.append("phone-hint")
    error = ""
    if name in errors:
        error = f'<p class="error" id="{name}-error">{errors[name]}</p>'
        described.append(f"{name}-error")
        extra += ' aria-invalid="true"'
    if described:
        extra += f' aria-describedby="{" ".join(described)}"'
    return (
        f'<label for="{name}">{page.t(label_key)}</label>{hint}{error}'
        f'<input id="{name}" name="{name}" value="{e(value)}"{extra}>'
    )


def _profile_form(page: Page, values: dict[str, str], errors: dict[str, str]) -> str:
    options = f'<option value="">{page.t("language_auto")}</option>' + "".join(
        f'<option value="{code}" lang="{code}"'
        + (" selected" if values.get("locale") == code else "")
        + f">{LANGUAGE_NAMES[code]}</option>"
        for code in LOCALES
    )
    fields = (
        _field(page, "name", "name", values.get("name", ""), errors, autocomplete="name")
        + _field(
            page,
            "email",
            "email",
            values.get("email", ""),
            errors,
            type="email",
            autocomplete="email",
            spellcheck="false",
        )
        + _field(
            page,
            "phone",
            "phone",
            values.get("phone", ""),
            errors,
            type="tel",
            autocomplete="tel",
        )
        + f'<label for="locale">{page.t("language")}</label>'
        f'<select id="locale" name="locale">{options}</select>'
        f'<button type="submit">{page.t("save_profile")}</button>'
    )
    return page.form("/portal/profile", fields, "stack")


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
        return _profile_page(page, values, {}, done_notice(page, "saved", "email_sent"))
    form = await request.form()
    if not await csrf_ok(request, form):
        return _profile_page(page, values, {}, error_box(page.t("bad_form")), 403)
    sent = {key: str(form.get(key, "")).strip()[:320] for key in ("name", "email", "phone")}
    locale = str(form.get("locale", ""))
    changes: dict[str, Any] = {
        "name": sent["name"] or None,
        "phoneNumber": sent["phone"] or None,
        "locale": locale if locale in LOCALES else None,
    }
    if sent["email"].casefold() != me["email"].casefold():
        changes["email"] = sent["email"]
    try:
        data = await execute(request, None, UPDATE_PROFILE, {"input": changes})
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return page.redirect("/portal")
        raise
    payload = data["updateProfile"]
    if payload["userErrors"]:
        errors = {
            FIELD_OF_ERROR.get((err.get("field") or ["form"])[-1], "form"): _error_text(page, err)
            for err in payload["userErrors"]
        }
        summary = error_box(page.t("fix_errors"))
        return _profile_page(page, {**sent, "locale": locale}, errors, summary, 400)
    done = "email_sent" if payload["emailConfirmationSent"] else "saved"
    response = page.redirect(f"/portal/profile?done={done}")
    if changes["locale"]:
        _remember_language(page, response, changes["locale"])
    else:
        response.delete_cookie(LANG_COOKIE, path="/")
    return response


def _error_text(page: Page, error: dict[str, Any]) -> str:
    key = "error_" + str(error["code"])
    return page.t(key) if has_text("en", key) else e(str(error["message"]))


def _profile_page(
    page: Page, values: dict[str, str], errors: dict[str, str], top: str, status: int = 200
) -> Response:
    if "form" in errors:
        top += error_box(errors.pop("form"))
    body = top + f"<p>{page.t('profile_intro')}</p>" + _profile_form(page, values, errors)
    return page.render(page.t("profile_title"), body, status)


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
