"""Changing plan from the subscription page: the choice of plans (on the subscription page),
a preview of what the change costs now and later, applying it, and taking back a change
scheduled for the period end."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, execute
from app.portal.fields import SUBSCRIPTION_FIELDS
from app.portal.subscriptions import render_detail

PRODUCT_ID = "pdt_"
PREVIEW = """
query($s: ID!, $p: ID!) {
  previewPlanChange(subscriptionId: $s, productId: $p) {
    kind effectiveAt nextBillingDate
    product { id name price { amount currency } interval intervalCount }
    prorationCredit { amount currency } prorationCharge { amount currency }
    taxDueNow { amount currency } amountDueNow { amount currency }
    nextRenewalAmount { amount currency }
  }
}"""
CHANGE = """
mutation($input: ChangePlanInput!) {
  changePlan(input: $input) { planChange { status } userErrors { code message } }
}"""
CANCEL_CHANGE = """
mutation($input: CancelPlanChangeInput!) {
  cancelPlanChange(input: $input) { planChange { status } userErrors { code message } }
}"""


async def preview_page(request: Request) -> Response:
    """What the change to `?product=` costs; a change that is not possible says why."""
    status, error = 200, None
    subscription_id = request.path_params["subscription_id"]
    product_id = str(request.query_params.get("product") or "")[:40]
    result = await signed_in(
        request,
        "subscriptions",
        f"subscription(id: $id) {{ {SUBSCRIPTION_FIELDS} }}",
        {"id": subscription_id},
        "($id: ID!)",
    )
    if isinstance(result, Response):
        return result
    page, data = result
    preview: dict[str, Any] | None = None
    if not product_id.startswith(PRODUCT_ID):
        status, error = 400, ("choose_plan", "")
    else:
        try:
            found = await execute(request, None, PREVIEW, {"s": subscription_id, "p": product_id})
            preview = found["previewPlanChange"]
        except PageError as refused:
            status, error = 409, (str(refused.code), "")
    return page.render(
        "plan_change.html",
        status,
        sub=data["subscription"],
        preview=preview,
        error=error,
        # A new key per preview: a form sent twice changes the plan once.
        idempotency_key=secrets.token_urlsafe(18),
    )


async def change_plan(request: Request) -> Response:
    subscription_id = request.path_params["subscription_id"]
    form = await request.form()
    page = Page(request, "en")
    if not await csrf_ok(request, form):
        return await render_detail(request, 403, ("bad_form", ""))
    product_id = str(form.get("product") or "")[:40]
    key = str(form.get("idempotency_key") or "")[:255] or None
    variables = {
        "input": {"subscriptionId": subscription_id, "productId": product_id, "idempotencyKey": key}
    }
    try:
        data = await execute(request, None, CHANGE, variables)
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await render_detail(request, 401)
        raise
    payload = data["changePlan"]
    errors = payload["userErrors"]
    if errors:
        return await render_detail(request, 409, (errors[0]["code"], errors[0]["message"]))
    done = "plan_scheduled" if payload["planChange"]["status"] == "SCHEDULED" else "plan_changed"
    return page.redirect(f"/portal/subscriptions/{subscription_id}?done={done}")


async def cancel_plan_change(request: Request) -> Response:
    subscription_id = request.path_params["subscription_id"]
    form = await request.form()
    page = Page(request, "en")
    if not await csrf_ok(request, form):
        return await render_detail(request, 403, ("bad_form", ""))
    try:
        data = await execute(
            request, None, CANCEL_CHANGE, {"input": {"subscriptionId": subscription_id}}
        )
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await render_detail(request, 401)
        raise
    errors = data["cancelPlanChange"]["userErrors"]
    if errors:
        return await render_detail(request, 409, (errors[0]["code"], errors[0]["message"]))
    return page.redirect(f"/portal/subscriptions/{subscription_id}?done=plan_kept")
