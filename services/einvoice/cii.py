"""UN/CEFACT CII XML of an EInvoice, for Factur-X/ZUGFeRD's EN 16931 profile or XRechnung 3.0.

The XML is built with drafthorse's model of CII and checked against its Factur-X EN 16931 XSD
as it is serialized. Before that, `check_document` refuses documents that would break a rule of
EN 16931 (or of XRechnung) in a way the XSD cannot see: the totals (BR-CO-10 to BR-CO-16), the
VAT breakdown (BR-S-08, BR-E-10, BR-AE-10, BR-O-10, BR-O-11 …), the identifiers each VAT category
needs (BR-S-02, BR-E-02, BR-AE-02, BR-CO-26, and BR-O-02, which forbids VAT IDs on invoices not
subject to VAT), the due date or terms (BR-CO-25), and XRechnung's BR-DE rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans as CiiPaymentMeans
from drafthorse.models.payment import PaymentTerms
from drafthorse.models.trade import BuyerTradeParty, SellerTradeParty
from drafthorse.models.tradelines import LineItem

from services.einvoice.model import (
    BuyerParty,
    EInvoice,
    InvoiceLine,
    PaymentMeans,
    PostalAddress,
    Profile,
    SellerParty,
)
from services.money import to_decimal

GUIDELINES = {
    Profile.EN16931: "urn:cen.eu:en16931:2017",
    Profile.XRECHNUNG: "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}
# XRechnung 3.0 takes over Peppol's rule that the business process (BT-23) is given.
PEPPOL_BILLING_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
EXEMPTION_REQUIRED = {"E": "BR-E-10", "AE": "BR-AE-10", "O": "BR-O-10"}
CREDIT_TRANSFER, CARD, DIRECT_DEBIT = ("30", "58"), ("48", "54", "55"), ("59",)


class InvalidEInvoice(ValueError):
    """The document would break the named business rules."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.rules = tuple(problem.split(":", 1)[0] for problem in problems)


def _percent(rate: Decimal) -> Decimal:
    return Decimal(format(rate.normalize(), "f"))


def check_document(document: EInvoice, profile: Profile) -> None:
    """Raises InvalidEInvoice listing every rule the document breaks (see the module doc)."""
    problems: list[str] = []
    lines, totals, breakdown = document.lines, document.totals, document.vat_breakdown
    categories = {line.tax_category for line in lines}
    if not lines:
        problems.append("BR-16: an invoice has at least one line")
    if sum(line.net_amount for line in lines) != totals.line_total:
        problems.append("BR-CO-10: the line total is not the sum of the line net amounts")
    if totals.tax_basis_total != totals.line_total:
        problems.append("BR-CO-13: the total without VAT is not the line total")
    if sum(group.tax_amount for group in breakdown) != totals.tax_total:
        problems.append("BR-CO-14: the VAT total is not the sum of the VAT breakdown")
    if totals.grand_total != totals.tax_basis_total + totals.tax_total:
        problems.append("BR-CO-15: the grand total is not the total without VAT plus VAT")
    if totals.due_payable != totals.grand_total - totals.paid:
        problems.append("BR-CO-16: the amount due is not the grand total minus the paid amount")
    if totals.due_payable > 0 and not (document.due_date or document.payment_terms):
        # Not among the rules of CEN's CII Schematron (release 1.3.16), hence checked here.
        problems.append("BR-CO-25: an amount due needs a due date or payment terms")

    nets: dict[tuple[str, Decimal], int] = defaultdict(int)
    for line in lines:
        nets[line.tax_category, line.tax_rate] += line.net_amount
    if {(group.category, group.rate) for group in breakdown} != set(nets):
        problems.append("BR-CO-18: one VAT breakdown per VAT category and rate of the lines")
    for group in breakdown:
        if nets.get((group.category, group.rate)) != group.taxable_amount:
            problems.append(f"BR-{group.category}-08: taxable amount of {group.category} is off")
        rule = EXEMPTION_REQUIRED.get(group.category)
        if rule and not (group.exemption_reason or group.exemption_code):
            problems.append(f"{rule}: VAT category {group.category} needs an exemption reason")

    seller, buyer = document.seller, document.buyer
    if "O" in categories:
        if len(categories) > 1:
            problems.append("BR-O-11: lines not subject to VAT cannot mix with other categories")
        if not (seller.identifier or seller.legal_registration_id):
            # BR-O-02 keeps the seller's VAT ID out, so BR-CO-26 needs BT-29 or BT-30.
            problems.append("BR-CO-26: without VAT ID (BR-O-02) the seller needs BT-29 or BT-30")
    elif not (seller.vat_id or seller.identifier or seller.legal_registration_id):
        problems.append("BR-CO-26: the seller needs an identifier (BT-29, BT-30 or BT-31)")
    if not (seller.vat_id or seller.tax_number):
        for category in sorted(categories & {"S", "Z", "E", "AE"}):
            problems.append(f"BR-{category}-02: the seller needs a VAT ID or tax number (BT-32)")
    if "AE" in categories and not buyer.vat_id:
        problems.append("BR-AE-02: reverse charge needs the buyer's VAT ID (BT-48)")
    if (
        document.period_start
        and document.period_end
        and document.period_start > document.period_end
    ):
        problems.append("BR-29: the invoice period ends before it starts")
    if profile is Profile.XRECHNUNG:
        problems.extend(_xrechnung_problems(document))
    if problems:
        raise InvalidEInvoice(problems)


def _xrechnung_problems(document: EInvoice) -> list[str]:
    problems: list[str] = []
    seller, buyer, means = document.seller, document.buyer, document.payment_means
    contact = seller.contact
    if not (document.buyer_reference or "").strip():
        problems.append("BR-DE-15: XRechnung needs the buyer reference (BT-10)")
    if contact is None or not (contact.name and contact.phone and contact.email):
        problems.append("BR-DE-2: XRechnung needs the seller contact's name, phone and email")
    if not (seller.address.city and seller.address.postcode):
        problems.append("BR-DE-3: XRechnung needs the seller's city and post code")
    if not (buyer.address.city and buyer.address.postcode):
        problems.append("BR-DE-8: XRechnung needs the buyer's city and post code")
    if not seller.email:
        problems.append("PEPPOL-EN16931-R020: XRechnung needs the seller's electronic address")
    if not buyer.email:
        problems.append("PEPPOL-EN16931-R010: XRechnung needs the buyer's electronic address")
    if means is None:
        problems.append("BR-DE-1: XRechnung needs payment instructions (BG-16)")
    elif means.type_code in CREDIT_TRANSFER and not means.iban:
        problems.append("BR-DE-23-a: a credit transfer needs the seller's IBAN")
    elif means.type_code in CARD and not means.card_number:
        problems.append("BR-DE-24-a: a card payment needs the card's last digits (BT-87)")
    elif means.type_code in DIRECT_DEBIT and not (
        means.mandate_id and means.creditor_id and means.debited_iban
    ):
        problems.append("BR-DE-30: a direct debit needs mandate, creditor id and debited IBAN")
    for line in document.lines:
        start, end = document.period_start, document.period_end
        if (line.period_start and start and line.period_start < start) or (
            line.period_end and end and line.period_end > end
        ):
            problems.append(f"PEPPOL-EN16931-R110: line {line.line_id} lies outside the period")
    return problems


def _seller(party: SellerTradeParty, seller: SellerParty, with_vat_id: bool) -> None:
    if seller.identifier:
        party.id = seller.identifier
    party.name = seller.name
    if seller.legal_registration_id:
        party.legal_organization.id = seller.legal_registration_id
    if seller.contact is not None:
        contact = seller.contact
        if contact.name:
            party.contact.person_name = contact.name
        if contact.phone:
            party.contact.telephone.number = contact.phone
        if contact.email:
            party.contact.email.address = contact.email
    _address(party, seller.address)
    if seller.email:
        party.electronic_address.uri_ID = ("EM", seller.email)
    if seller.vat_id and with_vat_id:
        party.tax_registrations.add(TaxRegistration(id=("VA", seller.vat_id)))
    if seller.tax_number:
        party.tax_registrations.add(TaxRegistration(id=("FC", seller.tax_number)))


def _buyer(party: BuyerTradeParty, buyer: BuyerParty, with_vat_id: bool) -> None:
    party.name = buyer.name
    _address(party, buyer.address)
    if buyer.email:
        party.electronic_address.uri_ID = ("EM", buyer.email)
    if buyer.vat_id and with_vat_id:
        party.tax_registrations.add(TaxRegistration(id=("VA", buyer.vat_id)))


def _address(party: SellerTradeParty | BuyerTradeParty, address: PostalAddress) -> None:
    if address.postcode:
        party.address.postcode = address.postcode
    if address.line1:
        party.address.line_one = address.line1
    if address.line2:
        party.address.line_two = address.line2
    if address.city:
        party.address.city_name = address.city
    party.address.country_id = address.country.upper()


def _line(document: EInvoice, line: InvoiceLine) -> LineItem:
    money = _money(document.currency)
    item = LineItem()
    item.document.line_id = line.line_id
    item.product.name = line.description
    item.agreement.net.amount = money(line.unit_price)
    if line.price_base_quantity != 1:
        item.agreement.net.basis_quantity = (Decimal(line.price_base_quantity), line.unit_code)
    item.delivery.billed_quantity = (Decimal(line.quantity), line.unit_code)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = line.tax_category
    if line.tax_category != "O":  # BR-O-05
        item.settlement.trade_tax.rate_applicable_percent = _percent(line.tax_rate)
    if line.period_start:
        item.settlement.period.start = line.period_start
    if line.period_end:
        item.settlement.period.end = line.period_end
    item.settlement.monetary_summation.total_amount = money(line.net_amount)
    return item


def _money(currency: str) -> Callable[[int], Decimal]:
    return lambda amount: to_decimal(amount, currency)


def _payment_means(means: PaymentMeans) -> CiiPaymentMeans:
    cii = CiiPaymentMeans()
    cii.type_code = means.type_code
    if means.information:
        cii.information.add(means.information)
    if means.card_number:
        cii.financial_card.id = means.card_number
        if means.cardholder:
            cii.financial_card.cardholder_name = means.cardholder
    if means.debited_iban:
        cii.payer_account.iban = means.debited_iban
    if means.iban:
        cii.payee_account.iban = means.iban
        if means.account_name:
            cii.payee_account.account_name = means.account_name
    if means.bic:
        cii.payee_institution.bic = means.bic
    return cii


def to_cii_xml(document: EInvoice, profile: Profile = Profile.EN16931) -> bytes:
    """The CII XML (UTF-8 bytes) of `document`, valid against the Factur-X EN 16931 XSD."""
    check_document(document, profile)
    money = _money(document.currency)
    not_subject = any(line.tax_category == "O" for line in document.lines)

    doc = Document()
    if profile is Profile.XRECHNUNG:
        doc.context.business_parameter.id = PEPPOL_BILLING_PROCESS
    doc.context.guideline_parameter.id = GUIDELINES[profile]
    doc.header.id = document.number
    doc.header.type_code = document.type.value
    doc.header.issue_date_time = document.issue_date
    for note in document.notes:
        doc.header.notes.add(IncludedNote(content=note))

    for line in document.lines:
        doc.trade.items.add(_line(document, line))

    agreement = doc.trade.agreement
    if document.buyer_reference:
        agreement.buyer_reference = document.buyer_reference
    _seller(agreement.seller, document.seller, with_vat_id=not not_subject)  # BR-O-02
    _buyer(agreement.buyer, document.buyer, with_vat_id=not not_subject)

    settlement = doc.trade.settlement
    settlement.currency_code = document.currency.upper()
    means = document.payment_means
    if means is not None:
        if means.creditor_id:
            settlement.creditor_reference_id = means.creditor_id
        settlement.payment_means.add(_payment_means(means))
    for group in document.vat_breakdown:
        tax = ApplicableTradeTax()
        tax.calculated_amount = money(group.tax_amount)
        tax.type_code = "VAT"
        if group.exemption_reason:
            tax.exemption_reason = group.exemption_reason
        tax.basis_amount = money(group.taxable_amount)
        tax.category_code = group.category
        if group.exemption_code:
            tax.exemption_reason_code = group.exemption_code
        # Written for O as well (0): XRechnung's BR-DE-14 wants it, EN 16931 allows it.
        tax.rate_applicable_percent = _percent(group.rate)
        settlement.trade_tax.add(tax)
    if document.period_start:
        settlement.period.start = document.period_start
    if document.period_end:
        settlement.period.end = document.period_end
    if document.payment_terms or document.due_date or (means and means.mandate_id):
        terms = PaymentTerms()
        if document.payment_terms:
            terms.description = document.payment_terms
        if document.due_date:
            terms.due = document.due_date
        if means and means.mandate_id:
            terms.debit_mandate_id = means.mandate_id
        settlement.terms.add(terms)

    totals = document.totals
    summation = settlement.monetary_summation
    summation.line_total = money(totals.line_total)
    summation.tax_basis_total = money(totals.tax_basis_total)
    summation.tax_total = (money(totals.tax_total), document.currency.upper())
    summation.grand_total = money(totals.grand_total)
    if totals.paid:
        summation.prepaid_total = money(totals.paid)
    summation.due_amount = money(totals.due_payable)
    if document.preceding_invoice is not None:
        reference = settlement.invoice_referenced_document
        reference.issuer_assigned_id = document.preceding_invoice.number
        if document.preceding_invoice.issue_date:
            reference.issue_date_time = document.preceding_invoice.issue_date
    return bytes(doc.serialize(schema="FACTUR-X_EN16931"))
