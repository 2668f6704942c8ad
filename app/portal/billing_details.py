"""The customer's billing details (name, company, address, VAT ID), as their invoices will show
them from now on. Invoices already issued keep what they said."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, execute
from app.portal.fields import done_of

FIELDS = (
    "me { billingDetails { name company vatId address { line1 line2 postalCode city country } } }"
)
UPDATE = """
mutation($input: UpdateBillingDetailsInput!) {
  updateBillingDetails(input: $input) { userErrors { code message field } }
}"""
NAMES = ("name", "company", "line1", "line2", "postal_code", "city", "country", "vat_id")
# The API's field names (camelCase) as the form's.
FORM_FIELD = {"postalCode": "postal_code", "vatId": "vat_id", "addressLine1": "line1"}
LIMITS = {"postal_code": 20, "country": 2, "vat_id": 20}


def _values(details: dict[str, Any]) -> dict[str, str]:
    address = details["address"]
    return {
        "name": details["name"] or "",
        "company": details["company"] or "",
        "line1": address["line1"] or "",
        "line2": address["line2"] or "",
        "postal_code": address["postalCode"] or "",
        "city": address["city"] or "",
        "country": address["country"] or "",
        "vat_id": details["vatId"] or "",
    }


async def billing_details(request: Request) -> Response:
    result = await signed_in(request, "profile", FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    values = _values(data["me"]["billingDetails"])
    if request.method == "GET":
        return _page(page, values, {}, None, done_of(request, "billing_saved"))
    form = await request.form()
    if not await csrf_ok(request, form):
        return _page(page, values, {}, "bad_form", status=403)
    sent = {name: str(form.get(name, "")).strip()[: LIMITS.get(name, 200)] for name in NAMES}
    details = {
        "name": sent["name"] or None,
        "company": sent["company"] or None,
        "vatId": sent["vat_id"] or None,
        "address": {
            "line1": sent["line1"] or None,
            "line2": sent["line2"] or None,
            "postalCode": sent["postal_code"] or None,
            "city": sent["city"] or None,
            "country": sent["country"].upper() or None,
        },
    }
    try:
        data = await execute(request, None, UPDATE, {"input": {"billingDetails": details}})
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return page.redirect("/portal")
        raise
    problems = data["updateBillingDetails"]["userErrors"]
    if problems:
        by_field = {}
        for problem in problems:
            name = (problem.get("field") or ["form"])[-1]
            by_field[FORM_FIELD.get(name, name if name in NAMES else "form")] = problem
        return _page(page, sent, by_field, "fix_errors", status=400)
    return page.redirect("/portal/billing-details?done=billing_saved")


def _page(
    page: Page,
    values: dict[str, str],
    errors: dict[str, Any],
    alert: str | None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "billing_details.html", status, values=values, errors=errors, alert=alert, done=done
    )
