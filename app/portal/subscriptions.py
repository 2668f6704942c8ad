"""Subscriptions: the list, one subscription with its card and its cancellation, and undoing a
cancellation that is set for the end of the period."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, execute
from app.portal.fields import CARD_FIELDS, SUBSCRIPTION_FIELDS, done_of

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
    return page.render("subscriptions.html", subscriptions=subs)


DETAIL_FIELDS = (
    f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} paymentMethod {{ {CARD_FIELDS} }} }} "
    # Plan changes (app/portal/plans.py): the plans to choose from, a change scheduled.
    "planOptions(subscriptionId: $id) { id name price { amount currency } interval "
    "intervalCount } "
    "scheduledPlanChange(subscriptionId: $id) { effectiveAt toProduct { name } }"
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
    return page.render(
        "subscription.html",
        status,
        sub=data["subscription"],
        plan_options=data["planOptions"],
        scheduled_change=data["scheduledPlanChange"],
        done=done_of(
            request,
            "cancelled",
            "ends",
            "kept",
            "card_updated",
            "paused",
            "pauses",
            "resumed",
            "restarted",
            "plan_changed",
            "plan_scheduled",
            "plan_kept",
        ),
        error=error,
        sent={"when": "", "reason": "", "comment": "", "reason_error": "", **(sent or {})},
        reasons=REASONS,
    )


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
