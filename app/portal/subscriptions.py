"""Subscriptions: the list, one subscription with its card and its cancellation, and undoing a
cancellation that is set for the end of the period."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, error_box, execute
from app.portal.i18n import date, has_text
from app.portal.widgets import (
    CARD_FIELDS,
    SUBSCRIPTION_FIELDS,
    card_label,
    definition_list,
    done_notice,
    on_hold_banner,
    price_per_interval,
    renewal_line,
    subscription_badge,
)

e = html.escape

REASONS = (
    "TOO_EXPENSIVE",
    "MISSING_FEATURES",
    "SWITCHED_SERVICE",
    "UNUSED",
    "CUSTOMER_SERVICE",
    "LOW_QUALITY",
    "TOO_COMPLEX",
    "OTHER",
)
CANCEL = """
mutation($input: CancelSubscriptionInput!) {
  cancelSubscription(input: $input) { subscription { id } userErrors { code message } }
}"""
UNDO = """
mutation($input: UndoCancellationInput!) {
  undoCancellation(input: $input) { subscription { id } userErrors { code message } }
}"""


async def subscription_list(request: Request) -> Response:
    fields = f"me {{ subscriptions(first: 50) {{ edges {{ node {{ {SUBSCRIPTION_FIELDS} }} }} }} }}"
    result = await signed_in(request, "subscriptions", fields)
    if isinstance(result, Response):
        return result
    page, data = result
    subs = [edge["node"] for edge in data["me"]["subscriptions"]["edges"]]
    if not subs:
        return page.render(page.t("subscriptions_title"), f"<p>{page.t('no_subs')}</p>")
    items = "".join(
        f'<li class="card"><h2><a href="{page.url("/portal/subscriptions/" + sub["id"])}">'
        f"{e(sub['product']['name'])}</a></h2><p>{subscription_badge(page, sub)}</p>"
        f"<p>{price_per_interval(page, sub)}</p><p>{renewal_line(page, sub)}</p></li>"
        for sub in subs
    )
    return page.render(page.t("subscriptions_title"), f'<ul class="card-list">{items}</ul>')


DETAIL_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} paymentMethod {{ {CARD_FIELDS} }} }}"
)


async def subscription_detail(request: Request) -> Response:
    return await render_detail(request, 200)


async def render_detail(
    request: Request,
    status: int,
    error: tuple[str, str] | None = None,
    sent: dict[str, str] | None = None,
) -> Response:
    """The page, also after a form on it failed: `error` is (code or key, the API's message)."""
    result = await signed_in(
        request,
        "subscriptions",
        DETAIL_FIELDS,
        {"id": request.path_params["subscription_id"]},
        "($id: ID!)",
    )
    if isinstance(result, Response):
        return result
    page, data = result
    sub = data["subscription"]
    body = done_notice(page, "cancelled", "ends", "kept", "card_updated")
    if error is not None:
        body += error_box(error_text(page, *error))
    if sub["status"] == "ON_HOLD":
        body += on_hold_banner(page, sub)
    body += _details(page, sub) + _payment_method(page, sub) + _cancellation(page, sub, sent or {})
    back = page.url("/portal/subscriptions")
    body += f'<p><a href="{back}">{page.t("all_subscriptions")}</a></p>'
    title = e(sub["product"]["name"])
    return page.render(title, body, status)


def _details(page: Page, sub: dict[str, Any]) -> str:
    rows = [
        (page.t("status"), subscription_badge(page, sub)),
        (page.t("price"), price_per_interval(page, sub)),
        (page.t("next_step"), renewal_line(page, sub)),
        (page.t("started"), date(sub["createdAt"], page.locale)),
    ]
    if sub["product"].get("description"):
        rows.insert(0, (page.t("product"), e(sub["product"]["description"])))
    return (
        f'<section class="card" aria-labelledby="details"><h2 id="details">{page.t("details")}'
        f"</h2>{definition_list(rows)}</section>"
    )


def _payment_method(page: Page, sub: dict[str, Any]) -> str:
    card = card_label(page, sub["paymentMethod"])
    edit = ""
    if sub["status"] in ("ACTIVE", "ON_HOLD"):
        href = page.url(f"/portal/subscriptions/{sub['id']}/payment-method")
        edit = (
            f'<a class="button secondary" href="{href}" id="edit-payment-method" '
            f'aria-describedby="current-card">{page.t("edit")}</a>'
        )
    return (
        f'<section class="card" aria-labelledby="payment-method"><h2 id="payment-method">'
        f'{page.t("payment_method")}</h2><div class="row"><p class="card-number" '
        f'id="current-card">{card}</p>{edit}</div></section>'
    )


def _cancellation(page: Page, sub: dict[str, Any], sent: dict[str, str]) -> str:
    heading = f'<h2 id="cancel">{page.t("cancel_heading")}</h2>'
    wrap = '<section class="card" aria-labelledby="cancel">{}</section>'
    action = f"/portal/subscriptions/{sub['id']}"
    if sub["status"] == "ACTIVE" and sub["cancelAtNextBillingDate"]:
        when = date(sub["nextBillingDate"], page.locale)
        button = f'<button type="submit">{page.t("undo_cancel")}</button>'
        return wrap.format(
            heading
            + f"<p>{page.t('ends_on_long', date=html.unescape(when))}</p>"
            + page.form(action + "/undo-cancel", button)
        )
    if sub["status"] not in ("ACTIVE", "ON_HOLD"):
        return ""
    choices = []
    default = sent.get("when") or ("period_end" if sub["status"] == "ACTIVE" else "now")
    if sub["status"] == "ACTIVE":
        when = html.unescape(date(sub["nextBillingDate"], page.locale))
        choices.append(("period_end", page.t("cancel_at_period_end", date=when)))
    choices.append(("now", page.t("cancel_now")))
    radios = "".join(
        f'<div class="choice"><input type="radio" id="when-{value}" name="when" value="{value}"'
        + (" checked" if value == default else "")
        + f'><label for="when-{value}">{label}</label></div>'
        for value, label in choices
    )
    options = f'<option value="">{page.t("choose_reason")}</option>' + "".join(
        f'<option value="{reason}"'
        + (" selected" if sent.get("reason") == reason else "")
        + f">{page.t('reason_' + reason)}</option>"
        for reason in REASONS
    )
    reason_error = ""
    reason_attrs = ""
    if sent.get("reason_error"):
        reason_error = f'<p class="error" id="reason-error">{page.t("choose_reason_error")}</p>'
        reason_attrs = ' aria-invalid="true" aria-describedby="reason-error"'
    fields = (
        f"<fieldset><legend>{page.t('cancel_when')}</legend>{radios}</fieldset>"
        f'<label for="reason">{page.t("cancel_reason")}</label>{reason_error}'
        f'<select id="reason" name="reason" required{reason_attrs}>{options}</select>'
        f'<label for="comment">{page.t("cancel_comment")}</label>'
        f'<textarea id="comment" name="comment" rows="3" maxlength="2000">'
        f"{e(sent.get('comment', ''))}</textarea>"
        f'<button type="submit" class="danger">{page.t("cancel_submit")}</button>'
    )
    intro = f"<p>{page.t('cancel_intro')}</p>"
    return wrap.format(heading + intro + page.form(action + "/cancel", fields, "stack"))


async def cancel(request: Request) -> Response:
    subscription_id = request.path_params["subscription_id"]
    form = await request.form()
    sent = {key: str(form.get(key, ""))[:2000] for key in ("when", "reason", "comment")}
    page = Page(request, "en")
    if not await csrf_ok(request, form):
        return await render_detail(request, 403, ("bad_form", ""), sent)
    if sent["reason"] not in REASONS:
        sent["reason_error"] = "1"
        return await render_detail(request, 400, ("fix_errors", ""), sent)
    at_period_end = sent["when"] != "now"
    variables = {
        "input": {
            "subscriptionId": subscription_id,
            "atPeriodEnd": at_period_end,
            "reason": sent["reason"],
            "comment": sent["comment"].strip() or None,
        }
    }
    try:
        data = await execute(request, None, CANCEL, variables)
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await render_detail(request, 401)
        raise
    errors = data["cancelSubscription"]["userErrors"]
    if errors:
        return await render_detail(request, 409, (errors[0]["code"], errors[0]["message"]), sent)
    done = "ends" if at_period_end else "cancelled"
    return page.redirect(f"/portal/subscriptions/{subscription_id}?done={done}")


async def undo_cancel(request: Request) -> Response:
    subscription_id = request.path_params["subscription_id"]
    form = await request.form()
    page = Page(request, "en")
    if not await csrf_ok(request, form):
        return await render_detail(request, 403, ("bad_form", ""))
    try:
        data = await execute(request, None, UNDO, {"input": {"subscriptionId": subscription_id}})
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await render_detail(request, 401)
        raise
    errors = data["undoCancellation"]["userErrors"]
    if errors:
        return await render_detail(request, 409, (errors[0]["code"], errors[0]["message"]))
    return page.redirect(f"/portal/subscriptions/{subscription_id}?done=kept")


def error_text(page: Page, code_or_key: str, message: str = "") -> str:
    """Our words for a known code (`CARD_DECLINED`) or key (`bad_form`), else the API's."""
    for key in (code_or_key, "error_" + code_or_key):
        if has_text("en", key):
            return page.t(key)
    return e(message) if message else page.t("error_generic")
