"""The payment method of a subscription: the edit step (a saved card or a new one, "Confirm
changes"), the step where the customer's bank confirms a payment (3-D Secure) and, when an
ON_HOLD subscription was paid with it, the confirmation page.

With the test simulator a card number typed here goes to `updatePaymentMethod` and nowhere
else: it is never written back into a page, not even after a decline. With Stripe no card
number reaches us at all: the page mounts Stripe.js's card fields, Stripe.js saves the card
through a SetupIntent (`startCardSetup`) and the form sends only the PaymentMethod id it made.
When the bank wants the customer to confirm a payment, the authenticate step runs Stripe.js's
`confirmCardPayment` and then `confirmPayment`; a payment still waiting after that (Stripe's
webhook not in yet) is shown as pending and the page asks our API again until it is final."""

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
    {
        "CARD_DECLINED",
        "INSUFFICIENT_FUNDS",
        "EXPIRED_CARD",
        "INCORRECT_CVC",
        "PROCESSING_ERROR",
        "AUTHENTICATION_FAILED",
    }
)
# Why a payment failed, as the card step may say it after a redirect (?failed=…).
SHOWN_FAILURES = frozenset({"AUTHENTICATION_FAILED", "CANCELLED"})
CARD_FIELD_NAMES = {
    "number": "number",
    "expMonth": "exp_month",
    "expYear": "exp_year",
    "cvc": "cvc",
}
GATEWAY_METHOD = re.compile(r"pm_[A-Za-z0-9_]{1,100}")
UPDATE = """
mutation($input: UpdatePaymentMethodInput!) {
  updatePaymentMethod(input: $input) {
    subscription { id status }
    payment { id status }
    nextAction { clientSecret }
    userErrors { code message field }
  }
}"""
GATEWAY_FIELDS = "business { paymentGateway { provider publishableKey } }"
# The customer's latest payments: one of them may wait for the bank (a renewal that needs
# 3-D Secure, or an attempt left half-way).
WAITING_FIELDS = "payments(first: 10) { edges { node { id status subscription { id } } } }"
EDIT_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} paymentMethod {{ id }} }} "
    f"me {{ paymentMethods {{ {CARD_FIELDS} }} {WAITING_FIELDS} }} {GATEWAY_FIELDS}"
)


async def edit_payment_method(request: Request) -> Response:
    if request.method == "GET":
        # Back from a payment that failed after the form (the bank's dialog cancelled or
        # failed, or Stripe declined it later): only a code this page knows is shown.
        failed = request.query_params.get("failed", "")
        if failed in DECLINES or failed in SHOWN_FAILURES:
            return await _render_edit(request, 200, {}, error=(failed, ""))
        return await _render_edit(request, 200, {})
    form = await request.form()
    sent = {
        key: str(form.get(key, "")).strip()[: 120 if key == "gateway_payment_method" else 40]
        for key in (
            "method",
            "number",
            "exp_month",
            "exp_year",
            "cvc",
            "idempotency_key",
            "gateway_payment_method",
        )
    }
    if not await csrf_ok(request, form):
        return await _render_edit(request, 403, sent, error=("bad_form", ""))
    subscription_id = request.path_params["subscription_id"]
    variables: dict[str, Any] = {
        "subscriptionId": subscription_id,
        "idempotencyKey": sent["idempotency_key"] or None,
    }
    if sent["method"] == "new" and GATEWAY_METHOD.fullmatch(sent["gateway_payment_method"]):
        # Made by Stripe.js in the browser from Stripe's own card fields.
        variables["gatewayPaymentMethodId"] = sent["gateway_payment_method"]
    elif sent["method"] == "new" and sent["gateway_payment_method"] == "needs_script":
        return await _render_edit(request, 400, sent, ("card_needs_script", ""))
    elif sent["method"] == "new":
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
    if result["payment"] is not None and result["nextAction"] is not None:
        # The bank wants the customer: the authenticate step starts Stripe.js's dialog at once.
        payment_id = result["payment"]["id"]
        return page.redirect(
            f"/portal/subscriptions/{subscription_id}/authenticate?payment={payment_id}&start=1"
        )
    if result["payment"] is not None:
        payment_id = result["payment"]["id"]
        return page.redirect(
            f"/portal/subscriptions/{subscription_id}/confirmation?payment={payment_id}"
        )
    if result["nextAction"] is not None:
        # Nothing owed, but the bank wants the card confirmed once more before it is saved
        # (a second setup of a card that Stripe did not attach): not saved; say so.
        return await _render_edit(request, 402, sent, ("card_needs_confirmation", ""))
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
    page.stripe_key = _stripe_key(data)
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
        declined=error is not None and (error[0] in DECLINES or error[0] in SHOWN_FAILURES),
        waiting=_waiting_payment(data, sub["id"]) if on_hold else None,
        # A fresh key for every attempt: a double submit of this form charges once, and trying
        # another card after a decline is a new attempt.
        idempotency_key=secrets.token_urlsafe(18),
    )


def _stripe_key(data: dict[str, Any]) -> str | None:
    gateway = data["business"].get("paymentGateway") or {}
    if gateway.get("provider") == "STRIPE" and gateway.get("publishableKey"):
        return str(gateway["publishableKey"])
    return None


def _waiting_payment(data: dict[str, Any], subscription_id: str) -> str | None:
    """The id of the subscription's payment that waits for the customer's bank, if any."""
    for edge in data["me"]["payments"]["edges"]:
        node = edge["node"]
        if (
            node["status"] == "REQUIRES_ACTION"
            and (node.get("subscription") or {}).get("id") == subscription_id
        ):
            return str(node["id"])
    return None


PAYMENT_FIELDS = (
    "id status createdAt failureCode amount { amount currency } subscription { id } "
    "invoice { id number status }"
)
AUTHENTICATE_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} }} "
    f"node(id: $payment) {{ ... on Payment {{ {PAYMENT_FIELDS} "
    "nextAction { clientSecret publishableKey } } }"
)
CONFIRM = """
mutation($input: ConfirmPaymentInput!) {
  confirmPayment(input: $input) {
    payment { id status failureCode }
    userErrors { code message }
  }
}"""


async def authenticate(request: Request) -> Response:
    """A payment the customer's bank wants confirmed (3-D Secure): the button runs Stripe.js's
    dialog, then this page's form asks our API to settle the payment (`confirmPayment`)."""
    subscription_id = request.path_params["subscription_id"]
    payment_id = request.query_params.get("payment", "")
    if not payment_id.startswith("pay_"):
        return Page(request, "en").redirect(f"/portal/subscriptions/{subscription_id}")
    error: tuple[str, str] | None = None
    if request.method == "POST":
        form = await request.form()
        if not await csrf_ok(request, form):
            error = ("bad_form", "")
        else:
            try:
                data = await execute(request, None, CONFIRM, {"input": {"paymentId": payment_id}})
            except PageError as refused:
                if refused.code != "UNAUTHENTICATED":
                    raise
                data = None  # the page below answers with the session-ended page
            if data is not None:
                confirmed = data["confirmPayment"]
                status = (confirmed["payment"] or {}).get("status")
                if confirmed["userErrors"]:
                    first = confirmed["userErrors"][0]
                    error = (first["code"], first["message"])
                elif status == "REQUIRES_ACTION":
                    error = ("not_authenticated", "")
                elif status is not None:
                    # SUCCEEDED, FAILED or still PROCESSING: the confirmation step says which.
                    return Page(request, "en").redirect(
                        f"/portal/subscriptions/{subscription_id}/confirmation?payment={payment_id}"
                    )
    result = await signed_in(
        request,
        "subscriptions",
        f"{AUTHENTICATE_FIELDS} {GATEWAY_FIELDS}",
        {"id": subscription_id, "payment": payment_id},
        "($id: ID!, $payment: ID!)",
    )
    if isinstance(result, Response):
        return result
    page, data = result
    sub, payment = data["subscription"], data["node"] or {}
    if (payment.get("subscription") or {}).get("id") != sub["id"]:
        return page.redirect(f"/portal/subscriptions/{subscription_id}")
    if payment["status"] != "REQUIRES_ACTION" or payment.get("nextAction") is None:
        return page.redirect(
            f"/portal/subscriptions/{subscription_id}/confirmation?payment={payment_id}"
        )
    page.script = True
    page.stripe_key = payment["nextAction"]["publishableKey"]
    return page.render(
        "authenticate_payment.html",
        400 if error else 200,
        sub=sub,
        payment=payment,
        client_secret=payment["nextAction"]["clientSecret"],
        start=request.query_params.get("start") == "1" and error is None,
        error=error,
    )


CONFIRMATION_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} paymentMethod {{ {CARD_FIELDS} }} }} "
    f"node(id: $payment) {{ ... on Payment {{ {PAYMENT_FIELDS} }} }}"
)
PENDING = ("PROCESSING", "REQUIRES_ACTION")


async def confirmation(request: Request) -> Response:
    """After paying what an ON_HOLD subscription owed: paid (the confirmation), failed (back to
    the card step with why), or not final yet (Stripe's webhook or the bank pending: the page
    says so and, with its script, asks our API until the payment is final)."""
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
    sub, payment = data["subscription"], data["node"] or {}
    if (payment.get("subscription") or {}).get("id") != sub["id"]:
        return page.redirect(f"/portal/subscriptions/{subscription_id}")
    if payment.get("status") == "FAILED":
        code = payment.get("failureCode") or "CARD_DECLINED"
        known = code if code in DECLINES or code in SHOWN_FAILURES else "CARD_DECLINED"
        return page.redirect(
            f"/portal/subscriptions/{subscription_id}/payment-method?failed={known}"
        )
    if payment.get("status") in PENDING:
        page.script = True
        return page.render("payment_pending.html", sub=sub, payment=payment)
    if payment.get("status") != "SUCCEEDED":
        return page.redirect(f"/portal/subscriptions/{subscription_id}")
    return page.render("confirmation.html", sub=sub, payment=payment)
