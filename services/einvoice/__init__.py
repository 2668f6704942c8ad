"""EN 16931 e-invoices: a dataclass model, its CII XML (Factur-X/ZUGFeRD EN 16931 or
XRechnung 3.0) and the Factur-X PDF/A-3 that carries it. Pure: no database, no network."""

from services.einvoice.cii import GUIDELINES, InvalidEInvoice, check_document, to_cii_xml
from services.einvoice.model import (
    BuyerParty,
    Contact,
    DocumentAmounts,
    DocumentType,
    EInvoice,
    InvoiceLine,
    Item,
    PaymentMeans,
    PostalAddress,
    PrecedingInvoice,
    Profile,
    SellerParty,
    Totals,
    VatBreakdown,
    document_amounts,
)
from services.einvoice.pdf import add_pdfa_output_intent, embed_in_pdf, pdfa_input_problems

__all__ = [
    "GUIDELINES",
    "BuyerParty",
    "Contact",
    "DocumentAmounts",
    "DocumentType",
    "EInvoice",
    "InvalidEInvoice",
    "InvoiceLine",
    "Item",
    "PaymentMeans",
    "PostalAddress",
    "PrecedingInvoice",
    "Profile",
    "SellerParty",
    "Totals",
    "VatBreakdown",
    "add_pdfa_output_intent",
    "check_document",
    "document_amounts",
    "embed_in_pdf",
    "pdfa_input_problems",
    "to_cii_xml",
]
