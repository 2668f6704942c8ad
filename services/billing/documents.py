"""The data an invoice PDF shows, gathered within the caller's scope."""

from __future__ import annotations

from models import Business, Customer, Invoice, InvoiceLine, Mode
from services.billing.pdf import InvoiceDoc, InvoiceLineDoc, render_invoice_pdf


async def invoice_pdf(invoice: Invoice, locale: str | None = None) -> bytes:
    """`invoice` must already have been loaded within the caller's scope."""
    customer = await Customer.get(id=invoice.customer_id)
    business = await Business.get(id=invoice.business_id)
    lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("id")
    doc = InvoiceDoc(
        number=invoice.number,
        status=invoice.status.value,
        business_name=business.name,
        business_email=business.support_email,
        customer_name=customer.name,
        customer_email=customer.email,
        issued_at=invoice.issued_at,
        paid_at=invoice.paid_at,
        currency=invoice.currency,
        total=invoice.total_amount,
        amount_due=invoice.amount_due,
        lines=[
            InvoiceLineDoc(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=line.amount,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in lines
        ],
        locale=locale or customer.locale or business.locale,
        test_mode=invoice.mode == Mode.TEST,
    )
    return render_invoice_pdf(doc)
