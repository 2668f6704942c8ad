"""Invoices: created OPEN, paid by payments, numbered per business and mode without gaps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F

from models import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus, Mode
from models.ids import well_formed
from services.billing.related_rows import INVOICES, JoinedPageQuery
from services.errors import NotFound
from services.pagination import Page, keyset_page
from services.scope import Scope
from services.sql import Row, fetch_rows, placeholders


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
    """What invoicing `items` comes to: the invoice's total is what gets charged."""

    total: int
    line_amounts: tuple[int, ...]


async def price_items(
    *, business_id: str, mode: Mode, customer_id: str, currency: str, items: Sequence[InvoiceItem]
) -> PricedItems:
    """The amounts an invoice of `items` would have now, without issuing it (for previews);
    `create_invoice` computes them the same way."""
    amounts = tuple(item.quantity * item.unit_amount for item in items)
    return PricedItems(sum(amounts), amounts)


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
    """Issues an OPEN invoice for `items`, numbered without gaps. Inside a transaction. Charge
    its `total_amount`: that is what the items come to."""
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
    )
    for item, amount in zip(items, priced.line_amounts, strict=True):
        await InvoiceLine.create(
            invoice=invoice,
            description=item.description,
            quantity=item.quantity,
            unit_amount=item.unit_amount,
            amount=amount,
            period_start=item.period_start,
            period_end=item.period_end,
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
) -> Page[Row]:
    """One customer's invoices, newest first, as rows (services/sql.py), with the row of the
    subscription read in the same statement when `related` names it."""
    where = scope.customer_filters(customer_id)
    query = JoinedPageQuery(INVOICES, where, related) if where is not None else None
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
