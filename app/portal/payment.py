"""The payment method of a subscription: the edit step (a saved card or a new one, "Confirm
changes") and, when an ON_HOLD subscription was paid with it, the confirmation page.

A card number typed here goes to `updatePaymentMethod` and nowhere else: it is never written
back into a page, not even after a decline."""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, execute
from app.portal.fields import CARD_FIELDS, SUBSCRIPTION_FIELDS

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
        card, problems = card_input(sent)
        if problems:
            return await _render_edit(request, 400, sent, ("fix_card", ""), problems)
        variables["card"] = card
    elif sent["method"].startswith("pm_"):
        variables["paymentMethodId"] = sent["method"]
    else:
        return await _render_edit(request, 400, sent, ("choose_method", ""))
    try:
        data = await execute(request, None, UPDATE, {"input": variables})
    except PageError as refused:
        if refused.code == "UNAUTHENTICATED":
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


def card_input(sent: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
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
    if sub["status"] not in ("ACTIVE", "ON_HOLD"):
        return page.render("payment_method.html", 409, sub=sub, closed=True)
    if sub["status"] == "ACTIVE" and not page.may("customersMayUpdatePaymentMethods"):
        return page.render("not_found.html", 404)
    on_hold = sub["status"] == "ON_HOLD"
    current = (sub["paymentMethod"] or {}).get("id")
    return page.render(
        "payment_method.html",
        status,
        sub=sub,
        closed=False,
        cards=cards,
        current=current,
        method=sent.get("method") or ("new" if on_hold or not cards else current or "new"),
        # Only the expiry is kept after a failed attempt: a card number never goes back out.
        sent={"exp_month": sent.get("exp_month", ""), "exp_year": sent.get("exp_year", "")},
        problems=problems or {},
        error=error,
        declined=error is not None and error[0] in DECLINES,
        # A fresh key for every attempt: a double submit of this form charges once, and trying
        # another card after a decline is a new attempt.
        idempotency_key=secrets.token_urlsafe(18),
    )


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
    return page.render("confirmation.html", sub=sub, payment=payment)
