"""Pausing and resuming a subscription from its page, and restarting an ended one (a saved card
or, in test mode, a new card; charged at once)."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, execute
from app.portal.fields import CARD_FIELDS, SUBSCRIPTION_FIELDS
from app.portal.payment import DECLINES, card_input
from app.portal.subscriptions import render_detail

PAUSE = """
mutation($input: PauseSubscriptionInput!) {
  pauseSubscription(input: $input) { subscription { id } userErrors { code message } }
}"""
RESUME = """
mutation($input: ResumeSubscriptionInput!) {
  resumeSubscription(input: $input) { subscription { id } userErrors { code message } }
}"""
RESTART = """
mutation($input: RestartSubscriptionInput!) {
  restartSubscription(input: $input) {
    subscription { id status } payment { id status } userErrors { code message field }
  }
}"""


def _day(value: str) -> datetime | None:
    """A date field's day, as midnight UTC; None when empty or not a date."""
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        return None


async def _run(
    request: Request, mutation: str, name: str, variables: dict[str, Any], done: str
) -> Response:
    subscription_id = request.path_params["subscription_id"]
    try:
        data = await execute(request, None, mutation, {"input": variables})
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await render_detail(request, 401)
        raise
    errors = data[name]["userErrors"]
    if errors:
        return await render_detail(request, 409, (errors[0]["code"], errors[0]["message"]))
    return Page(request, "en").redirect(f"/portal/subscriptions/{subscription_id}?done={done}")


async def pause(request: Request) -> Response:
    form = await request.form()
    if not await csrf_ok(request, form):
        return await render_detail(request, 403, ("bad_form", ""))
    at_period_end = str(form.get("when", "")) != "now"
    resume_on = str(form.get("resume_on", "")).strip()[:10]
    resume_at = _day(resume_on) if resume_on else None
    if resume_on and resume_at is None:
        return await render_detail(request, 400, ("INVALID_DATE", ""))
    variables = {
        "subscriptionId": request.path_params["subscription_id"],
        "atPeriodEnd": at_period_end,
        "resumeAt": resume_at.isoformat() if resume_at else None,
    }
    done = "pauses" if at_period_end else "paused"
    return await _run(request, PAUSE, "pauseSubscription", variables, done)


async def resume(request: Request) -> Response:
    form = await request.form()
    if not await csrf_ok(request, form):
        return await render_detail(request, 403, ("bad_form", ""))
    variables = {"subscriptionId": request.path_params["subscription_id"]}
    return await _run(request, RESUME, "resumeSubscription", variables, "resumed")


# Coming back ----------------------------------------------------------------------------------

RESTART_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} paymentMethod {{ id }} }} "
    f"me {{ paymentMethods {{ {CARD_FIELDS} }} }}"
)


async def restart(request: Request) -> Response:
    if request.method == "GET":
        return await _render_restart(request, 200, {})
    form = await request.form()
    sent = {
        key: str(form.get(key, "")).strip()[:40]
        for key in ("method", "number", "exp_month", "exp_year", "cvc", "idempotency_key")
    }
    if not await csrf_ok(request, form):
        return await _render_restart(request, 403, sent, ("bad_form", ""))
    subscription_id = request.path_params["subscription_id"]
    variables: dict[str, Any] = {
        "subscriptionId": subscription_id,
        "idempotencyKey": sent["idempotency_key"] or None,
    }
    if sent["method"] == "new":
        card, problems = card_input(sent)
        if problems:
            return await _render_restart(request, 400, sent, ("fix_card", ""))
        variables["card"] = card
    elif sent["method"].startswith("pm_"):
        variables["paymentMethodId"] = sent["method"]
    else:
        return await _render_restart(request, 400, sent, ("choose_method", ""))
    try:
        data = await execute(request, None, RESTART, {"input": variables})
    except PageError as refused:
        if refused.code == "UNAUTHENTICATED":
            return await _render_restart(request, 401, {})
        raise
    result = data["restartSubscription"]
    if result["userErrors"]:
        first = result["userErrors"][0]
        status = 402 if first["code"] in DECLINES else 409
        return await _render_restart(request, status, sent, (first["code"], first["message"]))
    new_id = result["subscription"]["id"]
    return Page(request, "en").redirect(f"/portal/subscriptions/{new_id}?done=restarted")


async def _render_restart(
    request: Request, status: int, sent: dict[str, str], error: tuple[str, str] | None = None
) -> Response:
    result = await signed_in(
        request,
        "subscriptions",
        RESTART_FIELDS,
        {"id": request.path_params["subscription_id"]},
        "($id: ID!)",
    )
    if isinstance(result, Response):
        return result
    page, data = result
    sub = data["subscription"]
    if sub["status"] not in ("CANCELLED", "EXPIRED") or not page.may("customersMayRestart"):
        return page.render("not_found.html", 404)
    cards = data["me"]["paymentMethods"]
    current = (sub["paymentMethod"] or {}).get("id")
    saved_ids = {card["id"] for card in cards}
    return page.render(
        "restart.html",
        status,
        sub=sub,
        cards=cards,
        method=sent.get("method") or (current if current in saved_ids else "new"),
        sent={"exp_month": sent.get("exp_month", ""), "exp_year": sent.get("exp_year", "")},
        error=error,
        idempotency_key=secrets.token_urlsafe(18),
    )
