"""Invoices: created OPEN, paid by payments, numbered per business and mode without gaps."""

from __future__ import annotations

from collections.abc import Collection
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


async def create_invoice(
    *,
    business_id: str,
    mode: Mode,
    customer_id: str,
    subscription_id: str | None,
    description: str,
    amount: int,
    currency: str,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> Invoice:
    """Inside a transaction."""
    invoice = await Invoice.create(
        business_id=business_id,
        mode=mode,
        customer_id=customer_id,
        subscription_id=subscription_id,
        number=await next_invoice_number(business_id, mode),
        status=InvoiceStatus.OPEN,
        currency=currency,
        total_amount=amount,
        amount_due=amount,
        period_start=period_start,
        period_end=period_end,
    )
    await InvoiceLine.create(
        invoice=invoice,
        description=description,
        quantity=1,
        unit_amount=amount,
        amount=amount,
        period_start=period_start,
        period_end=period_end,
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
