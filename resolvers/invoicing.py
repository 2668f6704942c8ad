"""Invoicing for both audiences: the business's legal details, customers' billing details,
invoice lines and e-invoices, refunds and credit notes."""

from __future__ import annotations

from models import Business, Customer, Invoice, InvoiceLine, Refund
from resolvers.context import Context
from services.billing import parties, refunds
from services.billing.documents import invoice_xml
from services.billing.invoice_links import signed_url
from services.billing.invoices import find_invoice, get_invoice
from services.billing.parties import BillingDetailsInput, LegalDetailsInput
from services.billing.refunds import RefundOutcome
from services.customers import get_customer
from services.einvoice import Profile
from services.errors import NotFound
from services.portal_settings import CustomerAction, require_customer_may_in

__all__ = [
    "BillingDetailsInput",
    "LegalDetailsInput",
    "RefundOutcome",
    "billing_details",
    "credit_notes_of",
    "invoice_lines",
    "invoice_xml_for",
    "legal_details",
    "refund_payment",
    "refunds_of",
    "update_billing_details",
    "update_customer_billing_details",
    "update_legal_details",
    "xml_url",
]


async def legal_details(ctx: Context) -> Business:
    """The business's legal details: who sells (on every invoice, so customers see them too)."""
    return await Business.get(id=ctx.scope().business_id)


async def update_legal_details(ctx: Context, details: LegalDetailsInput) -> Business:
    return await parties.update_legal_details(ctx.merchant_scope().business_id, details)


async def billing_details(ctx: Context, customer_id: str) -> Customer:
    """A customer's billing details, for the merchant or the customer themself."""
    return await get_customer(ctx.scope(), customer_id)


async def update_customer_billing_details(
    ctx: Context, customer_id: str, details: BillingDetailsInput
) -> Customer:
    return await parties.update_billing_details(ctx.merchant_scope(), customer_id, details)


async def update_billing_details(ctx: Context, details: BillingDetailsInput) -> Customer:
    scope = ctx.customer_scope()
    assert scope.customer_id is not None
    await require_customer_may_in(scope, CustomerAction.EDIT_PROFILE)
    return await parties.update_billing_details(scope, scope.customer_id, details)


async def invoice_lines(invoice_id: str) -> list[InvoiceLine]:
    """The lines of an invoice the caller has already been given."""
    return list(await InvoiceLine.filter(invoice_id=invoice_id).order_by("id"))


async def credit_notes_of(ctx: Context, invoice_id: str) -> list[Invoice]:
    return list(
        await Invoice.filter(credit_note_for_id=invoice_id, **ctx.scope().filters()).order_by(
            "issued_at", "id"
        )
    )


def xml_url(ctx: Context, invoice_id: str) -> str:
    return signed_url(ctx.settings, invoice_id, "xml")


async def invoice_xml_for(ctx: Context | None, invoice_id: str) -> tuple[Invoice, bytes, Profile]:
    """The invoice's e-invoice: in the caller's scope, or (ctx None) for a verified signed link.
    NotFound when there is no such invoice or it has no e-invoice."""
    invoice = (
        await get_invoice(ctx.scope(), invoice_id)
        if ctx is not None
        else await find_invoice(invoice_id)
    )
    if invoice is None:
        raise NotFound("invoice", field=["invoiceId"])
    made = await invoice_xml(invoice)
    if made is None:
        raise NotFound("e-invoice", field=["invoiceId"])
    return invoice, made[0], made[1]


async def refund_payment(
    ctx: Context,
    *,
    payment_id: str,
    amount: int | None,
    reason: str | None,
    idempotency_key: str | None,
) -> RefundOutcome:
    return await refunds.refund_payment(
        ctx.settings,
        ctx.merchant_scope(),
        ctx.caller_id,
        payment_id=payment_id,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
    )


async def refunds_of(ctx: Context, payment_id: str) -> list[Refund]:
    return list(
        await Refund.filter(payment_id=payment_id, **ctx.scope().filters()).order_by(
            "created_at", "id"
        )
    )
