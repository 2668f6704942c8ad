"""Invoices with their PDFs, and the payments made (or tried) for them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in

FIELDS = (
    "me { invoices(first: 50) { edges { node { id number status issuedAt paidAt "
    "total { amount currency } amountDue { amount currency } "
    "kind xmlUrl creditNoteFor { number } "
    "subscription { product { name } } } } } "
    "payments(first: 50) { edges { node { id status createdAt amount { amount currency } "
    "cardBrand cardLast4 failureCode invoice { number } } } } }"
)


async def invoice_list(request: Request) -> Response:
    result = await signed_in(request, "invoices", FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    if not page.may("customersMaySeeInvoices"):
        return page.render("not_found.html", 404)
    return page.render(
        "invoices.html",
        invoices=[edge["node"] for edge in data["me"]["invoices"]["edges"]],
        payments=[edge["node"] for edge in data["me"]["payments"]["edges"]],
    )
