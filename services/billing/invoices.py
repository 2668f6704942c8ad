"""Invoices: created OPEN, paid by payments, numbered per business and mode without gaps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import F

from models import (
    Business,
    Customer,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    Mode,
    Product,
)
from models.clock import now
from models.ids import new_id, well_formed
from services.billing.parties import buyer_of, buyer_snapshot, seller_of, seller_snapshot
from services.billing.related_rows import INVOICES, JoinedPageQuery, Reader
from services.errors import NotFound
from services.pagination import Page, keyset_page
from services.scope import Scope
from services.sql import Row, fetch_rows, placeholders
from services.tax import InvoiceAmounts, LineInput, compute_amounts, determine_tax
from services.tax import Product as TaxProduct
from services.tax import TaxCategory as TaxCategoryRule


async def next_invoice_number(business_id: str, mode: Mode) -> str:
    """Call inside the transaction that creates the invoice. The counter row's update locks it
    until commit (PostgreSQL) or holds the database's write lock (SQLite), and a rollback gives
    the number back: no gaps, no repeats, also under concurrency."""
    bumped = await InvoiceCounter.filter(business_id=business_id, mode=mode).update(
        last_number=F("last_number") + 1
    )
    if bumped == 0:
        await InvoiceCounter.get_or_create(business_id=business_id, mode=mode)
        await InvoiceCounter.filter(business_id=business_id, mode=mode).update(
            last_number=F("last_number") + 1
        )
    counter = await InvoiceCounter.get(business_id=business_id, mode=mode)
    prefix = "TEST-" if mode == Mode.TEST else ""
    return f"{prefix}INV-{counter.last_number:06d}"


@dataclass(frozen=True)
class InvoiceItem:
    """One line to invoice, priced as the merchant sets prices (net or gross, per the
    business's tax settings). A credit (e.g. for the unused part of a plan) is negative."""

    description: str
    unit_amount: int  # the currency's minor unit
    quantity: int = 1
    period_start: datetime | None = None
    period_end: datetime | None = None
    product_id: str | None = None  # whose tax category the line takes


@dataclass(frozen=True)
class PricedItems:
    """What invoicing `items` comes to: the invoice's total is what gets charged. Without the
    business's tax settings there is no VAT and `amounts` is None."""

    total: int
    line_amounts: tuple[int, ...]
    amounts: InvoiceAmounts | None = None
    seller: dict[str, Any] | None = None
    buyer: dict[str, Any] | None = None


async def price_items(
    *, business_id: str, mode: Mode, customer_id: str, currency: str, items: Sequence[InvoiceItem]
) -> PricedItems:
    """The amounts an invoice of `items` would have now, VAT included, without issuing it (for
    previews); `create_invoice` computes them the same way. The VAT of each line follows from
    the seller, the buyer and the product (services/tax); the rounding rule is in
    services/tax/amounts.py and the README."""
    gross = tuple(item.quantity * item.unit_amount for item in items)
    business = await Business.get(id=business_id)
    seller = seller_of(business)
    if seller is None:
        return PricedItems(sum(gross), gross)
    customer = await Customer.get(id=customer_id)
    buyer = buyer_of(customer, seller)
    product_ids = {item.product_id for item in items if item.product_id}
    categories = dict(await Product.filter(id__in=product_ids).values_list("id", "tax_category"))
    today = now().date()
    lines = [
        LineInput(
            item.quantity,
            item.unit_amount,
            determine_tax(
                seller,
                buyer,
                TaxProduct(TaxCategoryRule(categories.get(item.product_id, "standard"))),
                today,
            ),
        )
        for item in items
    ]
    amounts = compute_amounts(lines, currency, prices_include_tax=seller.prices_include_tax)
    return PricedItems(
        amounts.grand_total,
        gross,
        amounts,
        seller_snapshot(business),
        buyer_snapshot(customer, seller),
    )


def tax_fields(priced: PricedItems) -> dict[str, Any]:
    """The invoice's columns for its amounts, VAT and parties."""
    amounts = priced.amounts
    if amounts is None:
        return {"net_amount": None, "tax_amount": 0}
    return {
        "net_amount": amounts.line_total,
        "tax_amount": amounts.tax_total,
        "prices_include_tax": amounts.prices_include_tax,
        "seller": priced.seller,
        "buyer": priced.buyer,
        "tax_breakdown": [
            {
                "category": group.category_code,
                "rate": str(group.rate),
                "taxable_amount": group.taxable_amount,
                "tax_amount": group.tax_amount,
                "exemption": None
                if group.exemption is None
                else {
                    "de": group.exemption.reason_de,
                    "en": group.exemption.reason_en,
                    "code": group.exemption.code,
                },
            }
            for group in amounts.groups
        ],
        "notes": [{"de": note.de, "en": note.en} for note in amounts.notes],
    }


def line_tax_fields(priced: PricedItems, index: int) -> dict[str, Any]:
    if priced.amounts is None:
        return {}
    line = priced.amounts.lines[index]
    return {
        "net_amount": line.net_amount,
        "tax_category": line.tax.category_code,
        "tax_rate": str(line.tax.rate),
    }


async def create_invoice(
    *,
    business_id: str,
    mode: Mode,
    customer_id: str,
    subscription_id: str | None,
    currency: str,
    items: Sequence[InvoiceItem],
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> Invoice:
    """Issues an OPEN invoice for `items`, numbered without gaps, with the parties' details and
    the VAT as they are now. Inside a transaction. Charge its `total_amount`: that is what the
    items come to."""
    priced = await price_items(
        business_id=business_id,
        mode=mode,
        customer_id=customer_id,
        currency=currency,
        items=items,
    )
    invoice = await Invoice.create(
        business_id=business_id,
        mode=mode,
        customer_id=customer_id,
        subscription_id=subscription_id,
        number=await next_invoice_number(business_id, mode),
        status=InvoiceStatus.OPEN,
        currency=currency,
        total_amount=priced.total,
        amount_due=priced.total,
        period_start=period_start,
        period_end=period_end,
        **tax_fields(priced),
    )
    # Lines are read back in id order: ids of one random stem and a two-digit position keep
    # them in the order given (a proration credit before the new plan's charge).
    if len(items) > 100:
        raise ValueError("an invoice holds at most 100 lines")
    stem = new_id("inl")[:-2]
    for index, (item, amount) in enumerate(zip(items, priced.line_amounts, strict=True)):
        await InvoiceLine.create(
            id=f"{stem}{index:02d}",
            invoice=invoice,
            description=item.description,
            quantity=item.quantity,
            unit_amount=item.unit_amount,
            amount=amount,
            period_start=item.period_start,
            period_end=item.period_end,
            **line_tax_fields(priced, index),
        )
    return invoice


async def get_invoice(scope: Scope, invoice_id: str) -> Invoice:
    invoice = (
        await Invoice.get_or_none(id=invoice_id, **scope.filters())
        if well_formed(invoice_id, "inv")
        else None
    )
    if invoice is None:
        raise NotFound("invoice", field=["invoiceId"])
    return invoice


async def find_invoice(invoice_id: str) -> Invoice | None:
    """By id alone: for a signed PDF link, whose signature names exactly this invoice."""
    if not well_formed(invoice_id, "inv"):
        return None
    return await Invoice.get_or_none(id=invoice_id)


async def list_invoices(
    scope: Scope,
    customer_id: str,
    first: int | None,
    after: str | None,
    related: Collection[str] = (),
    reader: Reader | None = None,
) -> Page[Row]:
    """One customer's invoices, newest first, as rows (services/sql.py), with the row of the
    subscription read in the same statement when `related` names it."""
    where = scope.customer_filters(customer_id)
    query = JoinedPageQuery(INVOICES, where, related, reader) if where is not None else None
    return await keyset_page(query, first, after)


async def outstanding_by_subscription(subscription_ids: list[str]) -> dict[str, int]:
    """Sum of OPEN invoices' amount due per subscription, in one query."""
    if not subscription_ids:
        return {}
    ids = placeholders(len(subscription_ids))
    sql = (
        "SELECT subscription_id, SUM(amount_due) AS due FROM invoice "  # noqa: S608
        f"WHERE status = ? AND subscription_id IN ({ids}) GROUP BY subscription_id"
    )
    rows = await fetch_rows(sql, [InvoiceStatus.OPEN, *subscription_ids])
    return {row["subscription_id"]: int(row["due"] or 0) for row in rows}
