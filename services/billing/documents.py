"""The documents of an issued invoice or credit note: its PDF (a Factur-X PDF/A-3 carrying the
EN 16931 XML when the invoice has one) and its XML. Everything comes from what the invoice
recorded when it was issued."""

from __future__ import annotations

import logging
from typing import Any

from babel import Locale

from models import Business, Customer, Invoice, InvoiceKind, Mode
from services.billing.einvoices import einvoice_of, sources_of, xml_of
from services.billing.pdf import (
    InvoiceDoc,
    InvoiceLineDoc,
    TaxRowDoc,
    render_invoice_pdf,
    unicode_font,
)
from services.einvoice import Profile, embed_in_pdf, to_cii_xml

logger = logging.getLogger("portal.einvoice")

_LABELS = {
    "de": {"vat_id": "USt-IdNr.", "tax_number": "Steuernummer"},
    "en": {"vat_id": "VAT ID", "tax_number": "Tax number"},
}


def _country_name(code: str | None, lang: str) -> str | None:
    if not code:
        return None
    return str(Locale(lang).territories.get(code, code))


def _party_lines(party: dict[str, Any] | None, lang: str, seller: bool) -> tuple[str, ...]:
    if not party:
        return ()
    labels = _LABELS[lang]
    rows = [party.get("company"), party["name"]] if party.get("company") else [party["name"]]
    city = " ".join(filter(None, (party.get("postal_code"), party.get("city"))))
    rows += [party.get("address_line1"), party.get("address_line2"), city]
    rows.append(_country_name(party.get("country"), lang))
    if party.get("vat_id"):
        rows.append(f"{labels['vat_id']} {party['vat_id']}")
    if seller and party.get("tax_number"):
        rows.append(f"{labels['tax_number']} {party['tax_number']}")
    if seller:
        rows += [party.get("registration"), party.get("email")]
    return tuple(row for row in rows if row)


async def invoice_pdf(invoice: Invoice, locale: str | None = None) -> bytes:
    """`invoice` must already have been loaded within the caller's scope."""
    customer = await Customer.get(id=invoice.customer_id)
    business = await Business.get(id=invoice.business_id)
    sources = await sources_of(invoice)
    lang = locale or customer.locale or business.locale
    lang = lang if lang in ("de", "en") else "en"
    document = einvoice_of(sources)
    pdfa = document is not None and unicode_font() is not None
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
                tax_rate=line.tax_rate,
            )
            for line in sources.lines
        ],
        locale=lang,
        test_mode=invoice.mode == Mode.TEST,
        credit_note=invoice.kind == InvoiceKind.CREDIT_NOTE,
        corrects=(sources.original.number, sources.original.issued_at)
        if sources.original
        else None,
        seller_lines=_party_lines(invoice.seller, lang, seller=True),
        buyer_lines=_party_lines(invoice.buyer, lang, seller=False),
        prices_include_tax=invoice.prices_include_tax,
        net_total=invoice.net_amount,
        tax_total=invoice.tax_amount,
        breakdown=tuple(
            TaxRowDoc(g["category"], g["rate"], int(g["taxable_amount"]), int(g["tax_amount"]))
            for g in invoice.tax_breakdown or []
        ),
        notes=tuple(note[lang] for note in invoice.notes or []),
        pdfa=pdfa,
    )
    pdf = render_invoice_pdf(doc)
    if not pdfa:
        return pdf
    assert document is not None
    # Factur-X carries the EN 16931 profile's XML (its XSD is the one factur-x checks).
    xml = to_cii_xml(document, Profile.EN16931)
    return embed_in_pdf(pdf, xml, lang="de-DE" if lang == "de" else "en-GB")


async def invoice_xml(invoice: Invoice) -> tuple[bytes, Profile] | None:
    """The invoice's e-invoice (XRechnung when it can be, else Factur-X EN 16931 CII); None
    when the invoice has none (issued without the seller's legal details)."""
    document = einvoice_of(await sources_of(invoice))
    if document is None:
        return None
    return xml_of(document)
