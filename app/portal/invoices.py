"""Invoices with their PDFs, and the payments made (or tried) for them."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page
from app.portal.i18n import DASH, date, money
from app.portal.widgets import badge, brand_name, pdf_link

e = html.escape

FIELDS = (
    "me { invoices(first: 50) { edges { node { id number status issuedAt paidAt "
    "total { amount currency } amountDue { amount currency } "
    "subscription { product { name } } } } } "
    "payments(first: 50) { edges { node { id status createdAt amount { amount currency } "
    "cardBrand cardLast4 failureCode invoice { number } } } } }"
)


def _cell(page: Page, label_key: str, value: str) -> str:
    # data-label lets the stylesheet show each cell's column name at phone width.
    return f'<td data-label="{page.t(label_key)}">{value}</td>'


def _invoice_table(page: Page, invoices: list[dict[str, object]]) -> str:
    head = "".join(
        f'<th scope="col">{page.t(key)}</th>'
        for key in ("invoice_number", "issued", "product", "total", "status", "document")
    )
    rows = ""
    for inv in invoices:
        subscription = inv.get("subscription") or {}
        product = e(subscription["product"]["name"]) if subscription else DASH  # type: ignore[index]
        rows += (
            f'<tr><th scope="row" data-label="{page.t("invoice_number")}">{e(str(inv["number"]))}'
            "</th>"
            + _cell(page, "issued", date(inv["issuedAt"], page.locale))  # type: ignore[arg-type]
            + _cell(page, "product", product)
            + _cell(page, "total", money(inv["total"], page.locale))  # type: ignore[arg-type]
            + _cell(page, "status", badge(page, str(inv["status"])))
            + _cell(page, "document", pdf_link(page, inv))  # type: ignore[arg-type]
            + "</tr>"
        )
    return (
        f'<table class="responsive"><caption class="visually-hidden">{page.t("nav_invoices")}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _payment_table(page: Page, payments: list[dict[str, object]]) -> str:
    head = "".join(
        f'<th scope="col">{page.t(key)}</th>'
        for key in ("date", "amount", "card", "invoice_number", "status")
    )
    rows = ""
    for pay in payments:
        card = DASH
        if pay.get("cardLast4"):
            card = page.t(
                "card_short", brand=brand_name(pay.get("cardBrand")), last4=pay["cardLast4"]
            )
        status = badge(page, str(pay["status"]))
        if pay.get("failureCode"):
            status += f' <span class="muted">{page.t("error_" + str(pay["failureCode"]))}</span>'
        invoice = pay.get("invoice") or {}
        rows += (
            "<tr>"
            + _cell(page, "date", date(pay["createdAt"], page.locale))  # type: ignore[arg-type]
            + _cell(page, "amount", money(pay["amount"], page.locale))  # type: ignore[arg-type]
            + _cell(page, "card", card)
            + _cell(page, "invoice_number", e(str(invoice.get("number", DASH))))  # type: ignore[union-attr]
            + _cell(page, "status", status)
            + "</tr>"
        )
    return (
        f'<table class="responsive"><caption class="visually-hidden">{page.t("payments")}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


async def invoice_list(request: Request) -> Response:
    result = await signed_in(request, "invoices", FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    invoices = [edge["node"] for edge in data["me"]["invoices"]["edges"]]
    payments = [edge["node"] for edge in data["me"]["payments"]["edges"]]
    body = f"<p>{page.t('invoices_intro')}</p>"
    body += _invoice_table(page, invoices) if invoices else f"<p>{page.t('no_invoices')}</p>"
    if payments:
        body += f'<h2 id="payments">{page.t("payments")}</h2>' + _payment_table(page, payments)
    return page.render(page.t("invoices_title"), body)
