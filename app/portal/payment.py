"""The payment method of a subscription: the edit step (a saved card or a new one, "Confirm
changes") and, when an ON_HOLD subscription was paid with it, the confirmation page.

A card number typed here goes to `updatePaymentMethod` and nowhere else: it is never written
back into a page, not even after a decline."""

from __future__ import annotations

import html
import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, error_box, execute, notice_box
from app.portal.i18n import date, money
from app.portal.subscriptions import error_text
from app.portal.widgets import (
    CARD_FIELDS,
    SUBSCRIPTION_FIELDS,
    card_label,
    definition_list,
    pdf_link,
)
from models import Mode

e = html.escape

DECLINES = frozenset(
    {"CARD_DECLINED", "INSUFFICIENT_FUNDS", "EXPIRED_CARD", "INCORRECT_CVC", "PROCESSING_ERROR"}
)
CARD_FIELD_NAMES = {
    "number": "number",
    "expMonth": "exp_month",
    "expYear": "exp_year",
    "cvc": "cvc",
}
UPDATE = """
mutation($input: UpdatePaymentMethodInput!) {
  updatePaymentMethod(input: $input) {
    subscription { id status }
    payment { id status }
    userErrors { code message field }
  }
}"""
EDIT_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} paymentMethod {{ id }} }} "
    f"me {{ paymentMethods {{ {CARD_FIELDS} }} }}"
)


async def edit_payment_method(request: Request) -> Response:
    if request.method == "GET":
        return await _render_edit(request, 200, {})
    form = await request.form()
    sent = {
        key: str(form.get(key, "")).strip()[:40]
        for key in ("method", "number", "exp_month", "exp_year", "cvc", "idempotency_key")
    }
    if not await csrf_ok(request, form):
        return await _render_edit(request, 403, sent, error=("bad_form", ""))
    subscription_id = request.path_params["subscription_id"]
    variables: dict[str, Any] = {
        "subscriptionId": subscription_id,
        "idempotencyKey": sent["idempotency_key"] or None,
    }
    if sent["method"] == "new":
        card, problems = _card_input(sent)
        if problems:
            return await _render_edit(request, 400, sent, ("fix_card", ""), problems)
        variables["card"] = card
    elif sent["method"].startswith("pm_"):
        variables["paymentMethodId"] = sent["method"]
    else:
        return await _render_edit(request, 400, sent, ("choose_method", ""))
    try:
        data = await execute(request, None, UPDATE, {"input": variables})
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await _render_edit(request, 401, {})
        raise
    result = data["updatePaymentMethod"]
    if result["userErrors"]:
        first = result["userErrors"][0]
        field = CARD_FIELD_NAMES.get((first.get("field") or [""])[-1])
        status = 402 if first["code"] in DECLINES else 400
        problems = {field: first["code"]} if field else {}
        error = (first["code"], first["message"])
        return await _render_edit(request, status, sent, error, problems)
    page = Page(request, "en")
    if result["payment"] is not None:
        payment_id = result["payment"]["id"]
        return page.redirect(
            f"/portal/subscriptions/{subscription_id}/confirmation?payment={payment_id}"
        )
    return page.redirect(f"/portal/subscriptions/{subscription_id}?done=card_updated")


def _card_input(sent: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    problems: dict[str, str] = {}
    number = re.sub(r"[\s-]", "", sent["number"])
    if not number.isdigit():
        problems["number"] = "INVALID_CARD_NUMBER"
    month = int(sent["exp_month"]) if sent["exp_month"].isdigit() else 0
    if not 1 <= month <= 12:
        problems["exp_month"] = "INVALID_EXPIRY"
    year = int(sent["exp_year"]) if sent["exp_year"].isdigit() else 0
    if year < 100:
        year += 2000
    if not sent["exp_year"].isdigit():
        problems["exp_year"] = "INVALID_EXPIRY"
    if not sent["cvc"].isdigit():
        problems["cvc"] = "INCORRECT_CVC"
    card = {"number": number, "expMonth": month, "expYear": year, "cvc": sent["cvc"]}
    return card, problems


async def _render_edit(
    request: Request,
    status: int,
    sent: dict[str, str],
    error: tuple[str, str] | None = None,
    problems: dict[str, str] | None = None,
) -> Response:
    result = await signed_in(
        request,
        "subscriptions",
        EDIT_FIELDS,
        {"id": request.path_params["subscription_id"]},
        "($id: ID!)",
    )
    if isinstance(result, Response):
        return result
    page, data = result
    page.script = True
    sub = data["subscription"]
    cards = data["me"]["paymentMethods"]
    detail = page.url(f"/portal/subscriptions/{sub['id']}")
    if sub["status"] not in ("ACTIVE", "ON_HOLD"):
        body = f'<p>{page.t("cannot_edit_card")}</p><p><a href="{detail}">{page.t("back")}</a></p>'
        return page.render(page.t("edit_card_title"), body, 409)
    on_hold = sub["status"] == "ON_HOLD"
    body = ""
    if error is not None:
        message = error_text(page, *error)
        if on_hold and error[0] in DECLINES:
            message += " " + page.t("still_on_hold")
        body += error_box(message)
    body += f'<p class="lead">{page.t("edit_card_for", product=sub["product"]["name"])}</p>'
    if on_hold:
        amount = html.unescape(money(sub["outstandingAmount"], page.locale))
        body += f'<div class="alert warn"><p>{page.t("will_charge", amount=amount)}</p></div>'
    current = (sub["paymentMethod"] or {}).get("id")
    default = sent.get("method") or ("new" if on_hold or not cards else current or "new")
    body += _form(page, sub["id"], cards, current, default, sent, problems or {})
    body += f'<p><a href="{detail}">{page.t("back_without_changes")}</a></p>'
    return page.render(page.t("edit_card_title"), body, status)


def _form(
    page: Page,
    subscription_id: str,
    cards: list[dict[str, Any]],
    current: str | None,
    default: str,
    sent: dict[str, str],
    problems: dict[str, str],
) -> str:
    choices = [
        (
            card["id"],
            card_label(page, card) + (f" ({page.t('current')})" if card["id"] == current else ""),
        )
        for card in cards
    ]
    choices.append(("new", page.t("new_card")))
    radios = "".join(
        f'<div class="choice"><input type="radio" name="method" id="method-{e(value)}" '
        f'value="{e(value)}"'
        + (" checked" if value == default else "")
        + f'><label for="method-{e(value)}">{label}</label></div>'
        for value, label in choices
    )
    hint = ""
    if page.mode == Mode.TEST:
        hint = f'<p class="hint" id="test-cards">{page.t("test_cards")}</p>'

    def field(name: str, key: str, autocomplete: str, size: int, keep: bool) -> str:
        value = e(sent.get(name, "")) if keep else ""
        attrs = ""
        error = ""
        if name in problems:
            error = f'<p class="error" id="{name}-error">{error_text(page, problems[name])}</p>'
            attrs = f' aria-invalid="true" aria-describedby="{name}-error"'
        return (
            f'<div class="field"><label for="card-{name}">{page.t(key)}</label>{error}'
            f'<input id="card-{name}" name="{name}" inputmode="numeric" '
            f'autocomplete="{autocomplete}" size="{size}" maxlength="{size + 4}" '
            f'value="{value}"{attrs}></div>'
        )

    new_card = (
        f'<fieldset class="new-card"><legend>{page.t("new_card_details")}</legend>{hint}'
        + field("number", "card_number", "cc-number", 19, keep=False)
        + '<div class="inline-fields">'
        + field("exp_month", "exp_month", "cc-exp-month", 2, keep=True)
        + field("exp_year", "exp_year", "cc-exp-year", 4, keep=True)
        + field("cvc", "cvc", "cc-csc", 4, keep=False)
        + "</div></fieldset>"
    )
    # A fresh key for every attempt: a double submit of this form charges once, and trying
    # another card after a decline is a new attempt.
    key = f'<input type="hidden" name="idempotency_key" value="{secrets.token_urlsafe(18)}">'
    inner = (
        f"<fieldset><legend>{page.t('choose_card')}</legend>{radios}</fieldset>{new_card}{key}"
        f'<button type="submit" id="confirm-changes">{page.t("confirm_changes")}</button>'
    )
    action = f"/portal/subscriptions/{subscription_id}/payment-method"
    return page.form(action, inner, "stack payment-form")


CONFIRMATION_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} paymentMethod {{ {CARD_FIELDS} }} }} "
    "node(id: $payment) { ... on Payment { id status createdAt amount { amount currency } "
    "subscription { id } invoice { id number status } } }"
)


async def confirmation(request: Request) -> Response:
    subscription_id = request.path_params["subscription_id"]
    payment_id = request.query_params.get("payment", "")
    page = Page(request, "en")
    if not payment_id.startswith("pay_"):
        return page.redirect(f"/portal/subscriptions/{subscription_id}")
    result = await signed_in(
        request,
        "subscriptions",
        CONFIRMATION_FIELDS,
        {"id": subscription_id, "payment": payment_id},
        "($id: ID!, $payment: ID!)",
    )
    if isinstance(result, Response):
        return result
    page, data = result
    sub, payment = data["subscription"], data["node"]
    if (
        payment.get("status") != "SUCCEEDED"
        or (payment.get("subscription") or {}).get("id") != sub["id"]
    ):
        return page.redirect(f"/portal/subscriptions/{subscription_id}")
    product = sub["product"]["name"]
    rows = [
        (page.t("amount_paid"), money(payment["amount"], page.locale)),
        (page.t("paid_with"), card_label(page, sub["paymentMethod"])),
        (page.t("paid_on"), date(payment["createdAt"], page.locale)),
    ]
    invoice = payment.get("invoice")
    if invoice:
        rows.append((page.t("invoice"), f"{e(invoice['number'])} {pdf_link(page, invoice)}"))
    if sub["status"] == "ACTIVE":
        rows.append((page.t("next_renewal"), date(sub["nextBillingDate"], page.locale)))
    detail = page.url(f"/portal/subscriptions/{sub['id']}")
    body = (
        notice_box(page.t("reactivated", product=product))
        + definition_list(rows)
        + f"<p>{page.t('receipt_sent')}</p>"
        + f'<p class="actions"><a class="button" href="{detail}">{page.t("to_subscription")}</a>'
        + f' <a href="{page.url("/portal/invoices")}">{page.t("all_invoices")}</a></p>'
    )
    return page.render(page.t("payment_success_title"), body)
