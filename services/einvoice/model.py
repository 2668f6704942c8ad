"""An invoice or credit note as EN 16931 sees it. Amounts are integers in the currency's minor
unit; the BT/BG numbers in the comments are the norm's business terms and groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from services.tax import InvoiceAmounts


class DocumentType(StrEnum):
    """BT-3, UNTDID 1001. A credit note carries positive amounts, like the invoice it reverses."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


class Profile(StrEnum):
    EN16931 = "en16931"  # Factur-X / ZUGFeRD profile EN 16931 ("Comfort")
    XRECHNUNG = "xrechnung"  # the German CIUS, version 3.0, in CII syntax


@dataclass(frozen=True)
class PostalAddress:
    country: str  # BT-40 / BT-55, ISO 3166-1 alpha-2
    line1: str | None = None  # BT-35 / BT-50
    line2: str | None = None  # BT-36 / BT-51
    postcode: str | None = None  # BT-38 / BT-53
    city: str | None = None  # BT-37 / BT-52


@dataclass(frozen=True)
class Contact:
    """BG-6, the seller's contact; XRechnung wants all three (BR-DE-5, -6, -7)."""

    name: str | None = None  # BT-41
    phone: str | None = None  # BT-42
    email: str | None = None  # BT-43


@dataclass(frozen=True)
class SellerParty:
    name: str  # BT-27, the legal name
    address: PostalAddress  # BG-5
    vat_id: str | None = None  # BT-31
    tax_number: str | None = None  # BT-32, e.g. the German Steuernummer
    legal_registration_id: str | None = None  # BT-30, e.g. "HRB 12345 B, Amtsgericht Berlin"
    identifier: str | None = None  # BT-29, e.g. the supplier number the buyer gave us
    email: str | None = None  # BT-34, the electronic address (scheme EM)
    contact: Contact | None = None  # BG-6


@dataclass(frozen=True)
class BuyerParty:
    name: str  # BT-44
    address: PostalAddress  # BG-8
    vat_id: str | None = None  # BT-48
    email: str | None = None  # BT-49, the electronic address (scheme EM)


@dataclass(frozen=True)
class InvoiceLine:
    line_id: str  # BT-126
    description: str  # BT-153, the item name
    quantity: int  # BT-129
    unit_price: int  # BT-146, net, for `price_base_quantity` units
    net_amount: int  # BT-131
    tax_category: str  # BT-151
    tax_rate: Decimal  # BT-152 (not written for category O, BR-O-05)
    period_start: date | None = None  # BT-134
    period_end: date | None = None  # BT-135
    unit_code: str = "C62"  # BT-130, UN/ECE Rec. 20: C62 "one"
    price_base_quantity: int = 1  # BT-149


@dataclass(frozen=True)
class VatBreakdown:
    """BG-23: one per VAT category and rate."""

    category: str  # BT-118
    rate: Decimal  # BT-119
    taxable_amount: int  # BT-116
    tax_amount: int  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_code: str | None = None  # BT-121


@dataclass(frozen=True)
class Totals:
    """BG-22. With no document-level allowances or charges, BT-109 equals BT-106."""

    line_total: int  # BT-106
    tax_basis_total: int  # BT-109
    tax_total: int  # BT-110
    grand_total: int  # BT-112
    paid: int = 0  # BT-113
    due: int | None = None  # BT-115; None means grand total minus paid

    @property
    def due_payable(self) -> int:
        return self.grand_total - self.paid if self.due is None else self.due


@dataclass(frozen=True)
class PaymentMeans:
    """BG-16. type_code is UNTDID 4461: 58 SEPA credit transfer, 30 credit transfer, 48 bank
    card, 54 credit card, 59 SEPA direct debit, ZZZ other."""

    type_code: str  # BT-81
    information: str | None = None  # BT-82
    iban: str | None = None  # BT-84, the seller's account (credit transfer)
    account_name: str | None = None  # BT-85
    bic: str | None = None  # BT-86
    card_number: str | None = None  # BT-87, at most the last 4 to 6 digits
    cardholder: str | None = None  # BT-88
    mandate_id: str | None = None  # BT-89 (direct debit)
    creditor_id: str | None = None  # BT-90, the seller's SEPA creditor identifier
    debited_iban: str | None = None  # BT-91, the buyer's account


@dataclass(frozen=True)
class PrecedingInvoice:
    """BG-3: the invoice a credit note corrects."""

    number: str  # BT-25
    issue_date: date | None = None  # BT-26


@dataclass(frozen=True)
class EInvoice:
    type: DocumentType
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5
    seller: SellerParty  # BG-4
    buyer: BuyerParty  # BG-7
    buyer_reference: str | None  # BT-10: the Leitweg-ID for public buyers, else our customer id
    lines: tuple[InvoiceLine, ...]  # BG-25
    vat_breakdown: tuple[VatBreakdown, ...]  # BG-23
    totals: Totals  # BG-22
    notes: tuple[str, ...] = ()  # BG-1 (BT-22)
    due_date: date | None = None  # BT-9
    payment_terms: str | None = None  # BT-20
    payment_means: PaymentMeans | None = None  # BG-16
    period_start: date | None = None  # BT-73
    period_end: date | None = None  # BT-74
    preceding_invoice: PrecedingInvoice | None = None  # BG-3


@dataclass(frozen=True)
class Item:
    """What `document_amounts` needs besides the amounts: how each line is described."""

    description: str
    period_start: date | None = None
    period_end: date | None = None
    unit_code: str = "C62"


@dataclass(frozen=True)
class DocumentAmounts:
    lines: tuple[InvoiceLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    totals: Totals
    notes: tuple[str, ...]


def document_amounts(
    amounts: InvoiceAmounts, items: Sequence[Item], *, language: str = "de", paid: int = 0
) -> DocumentAmounts:
    """Lines, VAT breakdown, totals and notes of an EInvoice from `services.tax` amounts.

    A line's net price is exact: for tax-inclusive prices whose line net does not divide by the
    quantity, the price is given for the whole quantity (BT-149 = quantity) instead of rounded.
    """
    if len(items) != len(amounts.lines):
        raise ValueError("one item per line")
    lines: list[InvoiceLine] = []
    for number, (line, item) in enumerate(zip(amounts.lines, items, strict=True), start=1):
        if not amounts.prices_include_tax:
            price, base = line.unit_price, 1
        elif line.quantity and line.net_amount % line.quantity == 0:
            price, base = line.net_amount // line.quantity, 1
        else:
            price, base = line.net_amount, max(line.quantity, 1)
        lines.append(
            InvoiceLine(
                line_id=str(number),
                description=item.description,
                quantity=line.quantity,
                unit_price=price,
                net_amount=line.net_amount,
                tax_category=line.tax.category_code,
                tax_rate=line.tax.rate,
                period_start=item.period_start,
                period_end=item.period_end,
                unit_code=item.unit_code,
                price_base_quantity=base,
            )
        )
    breakdown = tuple(
        VatBreakdown(
            category=group.category_code,
            rate=group.rate,
            taxable_amount=group.taxable_amount,
            tax_amount=group.tax_amount,
            exemption_reason=group.exemption.reason(language) if group.exemption else None,
            exemption_code=group.exemption.code if group.exemption else None,
        )
        for group in amounts.groups
    )
    totals = Totals(
        line_total=amounts.line_total,
        tax_basis_total=amounts.line_total,
        tax_total=amounts.tax_total,
        grand_total=amounts.grand_total,
        paid=paid,
    )
    notes = tuple(note.text(language) for note in amounts.notes)
    return DocumentAmounts(tuple(lines), breakdown, totals, notes)
