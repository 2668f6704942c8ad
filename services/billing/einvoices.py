"""An issued invoice or credit note as an EN 16931 e-invoice: the CII XML (Factur-X/ZUGFeRD
profile EN 16931, or XRechnung 3.0 when the seller's details allow it) built from what the
invoice recorded when it was issued, never from today's details.

An invoice issued before the business set its legal details (no seller country, no VAT
breakdown) has no e-invoice; neither has one whose data breaks a rule of EN 16931 (for instance
an invoice to a buyer outside the EU from a seller without a registration number, BR-CO-26):
`einvoice_of` says why in the log and answers None, and the PDF is then a plain PDF.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from models import Invoice, InvoiceKind, InvoiceLine, Payment, PaymentStatus
from services.einvoice import (
    BuyerParty,
    Contact,
    DocumentType,
    EInvoice,
    InvalidEInvoice,
    PaymentMeans,
    PostalAddress,
    PrecedingInvoice,
    Profile,
    SellerParty,
    Totals,
    VatBreakdown,
    check_document,
    to_cii_xml,
)
from services.einvoice import InvoiceLine as EInvoiceLine

logger = logging.getLogger("portal.einvoice")


def language_of(invoice: Invoice) -> str:
    """The language of the invoice's texts: German for a German seller, else English."""
    seller = invoice.seller or {}
    return "de" if seller.get("country") == "DE" else "en"


def _address(party: dict[str, Any]) -> PostalAddress:
    return PostalAddress(
        country=party["country"],
        line1=party.get("address_line1"),
        line2=party.get("address_line2"),
        postcode=party.get("postal_code"),
        city=party.get("city"),
    )


def _unit_price(line: InvoiceLine, prices_include_tax: bool) -> tuple[int, int]:
    """The line's net price and the quantity it is for (BT-146, BT-149), exact."""
    net = line.net_amount if line.net_amount is not None else line.amount
    if not prices_include_tax:
        return line.unit_amount, 1
    if line.quantity and net % line.quantity == 0:
        return net // line.quantity, 1
    return net, max(line.quantity, 1)


@dataclass(frozen=True)
class Sources:
    invoice: Invoice
    lines: list[InvoiceLine]
    original: Invoice | None  # what a credit note corrects
    card_last4: str | None


async def sources_of(invoice: Invoice) -> Sources:
    lines = list(await InvoiceLine.filter(invoice_id=invoice.id).order_by("id"))
    original = (
        await Invoice.get_or_none(id=invoice.credit_note_for_id)
        if invoice.credit_note_for_id
        else None
    )
    paid_with = await Payment.filter(
        invoice_id=invoice.credit_note_for_id or invoice.id, status=PaymentStatus.SUCCEEDED
    ).first()
    return Sources(invoice, lines, original, paid_with.card_last4 if paid_with else None)


def build_einvoice(sources: Sources) -> EInvoice | None:
    """The EN 16931 document of an issued invoice; None when it was issued without tax
    settings."""
    invoice = sources.invoice
    seller, buyer = invoice.seller, invoice.buyer
    if not seller or not seller.get("country") or not buyer or invoice.tax_breakdown is None:
        return None
    language = language_of(invoice)
    seller_party = SellerParty(
        name=seller["name"],
        address=_address(seller),
        vat_id=seller.get("vat_id"),
        tax_number=seller.get("tax_number"),
        legal_registration_id=seller.get("registration"),
        # BR-CO-26 wants BT-29, BT-30 or BT-31; without a registration number the tax number
        # identifies the seller (a § 19 business often has no VAT ID, and on an invoice not
        # subject to VAT the VAT ID may not appear, BR-O-02).
        identifier=None if seller.get("registration") else seller.get("tax_number"),
        email=seller.get("email"),
        contact=Contact(name=seller["name"], phone=seller.get("phone"), email=seller.get("email")),
    )
    buyer_party = BuyerParty(
        name=buyer.get("company") or buyer["name"],
        address=_address(buyer),
        vat_id=buyer.get("vat_id"),
        email=buyer.get("email"),
    )
    lines = []
    for number, line in enumerate(sources.lines, start=1):
        price, base = _unit_price(line, invoice.prices_include_tax)
        lines.append(
            EInvoiceLine(
                line_id=str(number),
                description=line.description,
                quantity=line.quantity,
                unit_price=price,
                net_amount=line.net_amount if line.net_amount is not None else line.amount,
                tax_category=line.tax_category or "S",
                tax_rate=Decimal(line.tax_rate or "0"),
                period_start=line.period_start.date() if line.period_start else None,
                period_end=line.period_end.date() if line.period_end else None,
                price_base_quantity=base,
            )
        )
    breakdown = tuple(
        VatBreakdown(
            category=group["category"],
            rate=Decimal(group["rate"]),
            taxable_amount=int(group["taxable_amount"]),
            tax_amount=int(group["tax_amount"]),
            exemption_reason=(group.get("exemption") or {}).get(language),
            exemption_code=(group.get("exemption") or {}).get("code"),
        )
        for group in invoice.tax_breakdown
    )
    net = invoice.net_amount if invoice.net_amount is not None else invoice.total_amount
    totals = Totals(
        line_total=net,
        tax_basis_total=net,
        tax_total=invoice.tax_amount,
        grand_total=invoice.total_amount,
        paid=invoice.total_amount - invoice.amount_due,
    )
    credit_note = invoice.kind == InvoiceKind.CREDIT_NOTE
    original = sources.original
    issued = invoice.issued_at.date()
    return EInvoice(
        type=DocumentType.CREDIT_NOTE if credit_note else DocumentType.INVOICE,
        number=invoice.number,
        issue_date=issued,
        currency=invoice.currency,
        seller=seller_party,
        buyer=buyer_party,
        buyer_reference=invoice.customer_id,
        lines=tuple(lines),
        vat_breakdown=breakdown,
        totals=totals,
        notes=tuple(note[language] for note in invoice.notes or []),
        due_date=issued,
        payment_terms=(
            "Gutschrift auf die Karte, mit der bezahlt wurde."
            if credit_note and language == "de"
            else "Refunded to the card that paid."
            if credit_note
            else "Zahlbar per Karte im Kundenportal."
            if language == "de"
            else "Payable by card in the customer portal."
        ),
        payment_means=PaymentMeans(type_code="48", card_number=sources.card_last4)
        if sources.card_last4
        else PaymentMeans(type_code="ZZZ", information="Card payment"),
        period_start=invoice.period_start.date() if invoice.period_start else None,
        period_end=invoice.period_end.date() if invoice.period_end else None,
        preceding_invoice=PrecedingInvoice(original.number, original.issued_at.date())
        if original is not None
        else None,
    )


def einvoice_of(sources: Sources) -> EInvoice | None:
    """The document, checked against EN 16931's rules; None (logged) when it cannot be one."""
    document = build_einvoice(sources)
    if document is None:
        return None
    try:
        check_document(document, Profile.EN16931)
    except InvalidEInvoice as broken:
        logger.warning("invoice %s is no EN 16931 e-invoice: %s", sources.invoice.id, broken)
        return None
    return document


def xml_of(document: EInvoice) -> tuple[bytes, Profile]:
    """XRechnung 3.0 when the document meets its extra rules (the seller's contact with phone,
    both parties' postal codes and cities, …), else Factur-X EN 16931: both EN 16931 CII."""
    try:
        return to_cii_xml(document, Profile.XRECHNUNG), Profile.XRECHNUNG
    except InvalidEInvoice:
        return to_cii_xml(document, Profile.EN16931), Profile.EN16931
