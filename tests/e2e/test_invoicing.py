"""Invoices that hold up in Germany and the EU, through the API: the parties' details, VAT per
line (amounts computed by hand below), e-invoices that pass CEN's EN 16931 rules, invoices that
never change once issued."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import pytest
from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from conftest import Portal
from services.businesses import NewBusiness, create_business
from support import GraphQLClient, create_customer, create_product, session_for

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}

UPDATE_LEGAL = """
mutation($i: UpdateLegalDetailsInput!) {
  updateLegalDetails(input: $i) {
    legalDetails { legalName vatId taxNumber smallBusiness pricesIncludeTax
                   address { line1 postalCode city country } }
    userErrors { code field message }
  }
}"""

UPDATE_BILLING = """
mutation($i: UpdateCustomerBillingDetailsInput!) {
  updateCustomerBillingDetails(input: $i) {
    billingDetails { name company vatId address { line1 postalCode city country } }
    userErrors { code field message }
  }
}"""

PAY = """
mutation($i: CreatePaymentInput!) {
  createPayment(input: $i) {
    payment { id status amount { amount currency } }
    invoice {
      id number total { amount } subtotal { amount } tax { amount } amountDue { amount }
      taxRates { category rate taxableAmount { amount } taxAmount { amount } exemptionReason }
      notes pdfUrl xmlUrl kind
      lines { description quantity unitAmount { amount } amount { amount }
              netAmount { amount } taxRate taxCategory }
    }
    userErrors { code field message }
  }
}"""

SELLER = {
    "legalName": "Beispiel Software GmbH",
    "address": {"line1": "Hauptstraße 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
    "vatId": "DE136695976",
    "taxNumber": "30/123/45678",
    "registration": "HRB 12345 B, Amtsgericht Berlin",
    "phone": "+49 30 1234567",
}
SMALL_SELLER = {
    "legalName": "Anna Muster Webdesign",
    "address": {"line1": "Gartenweg 5", "postalCode": "04109", "city": "Leipzig", "country": "DE"},
    "taxNumber": "231/456/78901",
    "phone": "+49 341 987654",
    "smallBusiness": True,
}


def _buyer(country: str, vat_id: str | None = None, company: str | None = None) -> dict[str, Any]:
    return {
        "name": "Max Muster",
        "company": company,
        "vatId": vat_id,
        "address": {"line1": "Street 1", "postalCode": "1010", "city": "City", "country": country},
    }


@dataclass(frozen=True)
class Case:
    id: str
    seller: dict[str, Any]
    buyer: dict[str, Any] | None
    price: int
    currency: str = "EUR"
    tax_category: str = "STANDARD"
    # Expected, computed by hand in the comment beside each case.
    net: int = 0
    tax: int = 0
    gross: int = 0
    category: str = "S"
    rate: str = "19"
    note: str | None = None  # a word the invoice's legal note must contain


CASES = [
    # 19.99 net at 19 %: 19.99 * 0.19 = 3.7981 -> 3.80; gross 23.79.
    Case("domestic B2C", SELLER, _buyer("DE"), 1999, net=1999, tax=380, gross=2379),
    # A German business buyer pays German VAT like a consumer: the same amounts.
    Case(
        "domestic B2B",
        SELLER,
        _buyer("DE", "DE129273398", "Kunde GmbH"),
        1999,
        net=1999,
        tax=380,
        gross=2379,
    ),
    # A consumer in Austria pays Austrian VAT (OSS): 19.99 * 0.20 = 3.998 -> 4.00; 23.99.
    Case("EU B2C AT", SELLER, _buyer("AT"), 1999, net=1999, tax=400, gross=2399, rate="20"),
    # A consumer in the Netherlands: 19.99 * 0.21 = 4.1979 -> 4.20; 24.19.
    Case("EU B2C NL", SELLER, _buyer("NL"), 1999, net=1999, tax=420, gross=2419, rate="21"),
    # An Austrian business with a valid VAT ID: reverse charge, no VAT.
    Case(
        "EU B2B reverse charge",
        SELLER,
        _buyer("AT", "ATU13585627", "Muster GmbH"),
        1999,
        net=1999,
        tax=0,
        gross=1999,
        category="AE",
        rate="0",
        note="everse",
    ),
    # A buyer in the US: not subject to EU VAT.
    Case(
        "non-EU",
        SELLER,
        _buyer("US"),
        1999,
        net=1999,
        tax=0,
        gross=1999,
        category="O",
        rate="0",
        note="EU",
    ),
    # A reduced-rate product in Germany: 19.99 * 0.07 = 1.3993 -> 1.40; 21.39.
    Case(
        "reduced rate",
        SELLER,
        _buyer("DE"),
        1999,
        tax_category="REDUCED",
        net=1999,
        tax=140,
        gross=2139,
        rate="7",
    ),
    # Gross prices: 19.99 includes 19 % VAT: 19.99 * 19 / 119 = 3.19168 -> 3.19; net 16.80.
    Case(
        "tax-inclusive price",
        {**SELLER, "pricesIncludeTax": True},
        _buyer("DE"),
        1999,
        net=1680,
        tax=319,
        gross=1999,
    ),
    # § 19 UStG: no VAT, and the statutory note.
    Case(
        "small business",
        SMALL_SELLER,
        _buyer("DE"),
        5000,
        net=5000,
        tax=0,
        gross=5000,
        category="E",
        rate="0",
        note="19 UStG",
    ),
    # A zero-decimal currency: 999 JPY * 0.19 = 189.81 -> 190 JPY; 1189 JPY.
    Case("JPY", SELLER, _buyer("DE"), 999, currency="JPY", net=999, tax=190, gross=1189),
    # No country given: a consumer in the seller's country.
    Case("buyer without address", SELLER, None, 1999, net=1999, tax=380, gross=2379),
]


async def _seller(gql: GraphQLClient, name: str, details: dict[str, Any]) -> NewBusiness:
    business = await create_business(name, "billing@seller.example", "de")
    result = await gql(UPDATE_LEGAL, {"i": details}, token=business.test_api_key)
    assert result["updateLegalDetails"]["userErrors"] == [], result
    return business


async def _invoice(
    gql: GraphQLClient, key: str, customer_id: str, product_id: str
) -> dict[str, Any]:
    data = await gql(
        PAY,
        {"i": {"customerId": customer_id, "productId": product_id, "card": _card()}},
        token=key,
    )
    payload = data["createPayment"]
    assert payload["userErrors"] == [], payload
    return dict(payload)


def _card() -> dict[str, Any]:
    return {"number": "4242424242424242", "expMonth": 12, "expYear": 2034, "cvc": "123"}


def _xpath(xml: bytes, path: str) -> list[str]:
    return [str(value) for value in etree.fromstring(xml).xpath(path, namespaces=NS)]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_vat_per_case_and_an_e_invoice_that_passes_en_16931(
    portal: Portal, case: Case, cen_rules: Callable[[bytes], list[str]]
) -> None:
    gql = portal.gql
    seller = await _seller(gql, "Beispiel", case.seller)
    key = seller.test_api_key
    customer_id = await create_customer(gql, key, "max@example.com", "Max Muster")
    if case.buyer is not None:
        updated = await gql(
            UPDATE_BILLING, {"i": {"customerId": customer_id, "billingDetails": case.buyer}}, key
        )
        assert updated["updateCustomerBillingDetails"]["userErrors"] == []
    product_id = await create_product(
        gql,
        key,
        amount=case.price,
        interval=None,
        currency=case.currency,
        taxCategory=case.tax_category,
        name="Pro-Lizenz",
    )
    paid = await _invoice(gql, key, customer_id, product_id)
    invoice = paid["invoice"]

    assert paid["payment"]["amount"] == {"amount": case.gross, "currency": case.currency}
    assert invoice["total"]["amount"] == case.gross
    assert invoice["subtotal"]["amount"] == case.net
    assert invoice["tax"]["amount"] == case.tax
    assert invoice["amountDue"]["amount"] == 0
    [rate] = invoice["taxRates"]
    assert (rate["category"], rate["rate"]) == (case.category, case.rate)
    assert (rate["taxableAmount"]["amount"], rate["taxAmount"]["amount"]) == (case.net, case.tax)
    [line] = invoice["lines"]
    assert line["unitAmount"]["amount"] == case.price
    assert line["netAmount"]["amount"] == case.net
    assert (line["taxCategory"], line["taxRate"]) == (case.category, case.rate)
    if case.note:
        assert any(case.note in note for note in invoice["notes"]), invoice["notes"]
    else:
        assert invoice["notes"] == []

    # The e-invoice: EN 16931 CII that CEN's rules accept, with the same amounts.
    response = await portal.http.get(invoice["xmlUrl"])
    assert response.status_code == 200, response.text
    xml = response.content
    assert cen_rules(xml) == []
    # XRechnung when both parties' postal codes and cities and the seller's phone are known.
    expected = "en16931" if case.buyer is None else "xrechnung"
    assert response.headers["x-einvoice-profile"] == expected
    grand = _xpath(
        xml, "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount/text()"
    )
    decimals = 0 if case.currency == "JPY" else 2
    assert grand == [f"{case.gross / 10**decimals:.{decimals}f}"]
    assert _xpath(xml, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID/text()") == [
        invoice["number"]
    ]

    # The PDF is a Factur-X PDF/A-3 carrying the same invoice, and says what § 14 UStG asks.
    pdf = await portal.http.get(invoice["pdfUrl"])
    assert pdf.status_code == 200
    name, embedded = get_xml_from_pdf(pdf.content, check_xsd=True)
    assert name == "factur-x.xml"
    assert cen_rules(embedded) == []
    assert _xpath(embedded, "//ram:GrandTotalAmount/text()") == grand
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    seller_name = case.seller["legalName"]
    assert seller_name in text and invoice["number"] in text
    assert (case.seller.get("vatId") or case.seller["taxNumber"]) in text
    if case.category == "AE":
        assert "ATU13585627" in text  # the buyer's VAT ID, required for reverse charge
    metadata = PdfReader(BytesIO(pdf.content)).xmp_metadata
    assert metadata is not None


async def test_an_issued_invoice_never_changes(
    portal: Portal, cen_rules: Callable[[bytes], list[str]]
) -> None:
    gql = portal.gql
    seller = await _seller(gql, "Beispiel", SELLER)
    key = seller.test_api_key
    customer_id = await create_customer(gql, key, "ann@example.com", "Ann")
    await gql(
        UPDATE_BILLING,
        {"i": {"customerId": customer_id, "billingDetails": _buyer("DE", company="Alt GmbH")}},
        key,
    )
    product_id = await create_product(gql, key, amount=1000, interval=None)
    first = (await _invoice(gql, key, customer_id, product_id))["invoice"]

    # The buyer moves and becomes an Austrian business; the seller changes its name.
    moved = _buyer("AT", "ATU13585627", "Neu GmbH")
    await gql(UPDATE_BILLING, {"i": {"customerId": customer_id, "billingDetails": moved}}, key)
    await gql(UPDATE_LEGAL, {"i": {**SELLER, "legalName": "Umbenannt GmbH"}}, token=key)
    second = (await _invoice(gql, key, customer_id, product_id))["invoice"]

    old_xml = (await portal.http.get(first["xmlUrl"])).content
    new_xml = (await portal.http.get(second["xmlUrl"])).content
    assert _xpath(old_xml, "//ram:BuyerTradeParty/ram:Name/text()") == ["Alt GmbH"]
    assert _xpath(old_xml, "//ram:SellerTradeParty/ram:Name/text()") == [SELLER["legalName"]]
    assert first["tax"]["amount"] == 190  # German VAT, as when it was issued
    assert _xpath(new_xml, "//ram:BuyerTradeParty/ram:Name/text()") == ["Neu GmbH"]
    assert _xpath(new_xml, "//ram:SellerTradeParty/ram:Name/text()") == ["Umbenannt GmbH"]
    assert second["tax"]["amount"] == 0  # now reverse charge
    assert cen_rules(old_xml) == [] and cen_rules(new_xml) == []
    old_pdf = (await portal.http.get(first["pdfUrl"])).content
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(old_pdf)).pages)
    assert "Alt GmbH" in text and "Neu GmbH" not in text


async def test_details_are_checked_and_nothing_changes_on_bad_input(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "bo@example.com")
    for details, code, field in (
        ({"vatId": "DE123456789", "address": {"country": "DE"}}, "INVALID_VAT_ID", "vatId"),
        ({"address": {"country": "XX"}}, "INVALID_INPUT", "country"),
        ({"address": {"country": "AT", "postalCode": "<script>"}}, "INVALID_INPUT", "postalCode"),
        ({"vatId": "ATU13585627"}, "INVALID_INPUT", "company"),
    ):
        result = await gql(
            UPDATE_BILLING, {"i": {"customerId": customer_id, "billingDetails": details}}, key
        )
        payload = result["updateCustomerBillingDetails"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, [field])]
    for details, code, field in (
        ({**SELLER, "vatId": "DE136695977"}, "INVALID_VAT_ID", "vatId"),
        ({**SELLER, "address": {**SELLER["address"], "country": "US"}}, "INVALID_INPUT", "country"),
        ({**SELLER, "vatId": "ATU13585627"}, "INVALID_INPUT", "vatId"),
        ({**SELLER, "legalName": None}, "INVALID_INPUT", "legalName"),
        (
            {**SMALL_SELLER, "address": {**SMALL_SELLER["address"], "country": "AT"}},
            "INVALID_INPUT",
            "smallBusiness",
        ),
    ):
        payload = (await gql(UPDATE_LEGAL, {"i": details}, token=key))["updateLegalDetails"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, [field])]
    details = await gql(
        "query($id: ID!) { customer(id: $id) { billingDetails { vatId address { country } } }"
        " business { legalDetails { legalName address { country } } } }",
        {"id": customer_id},
        token=key,
    )
    assert details["customer"]["billingDetails"] == {"vatId": None, "address": {"country": None}}
    assert details["business"]["legalDetails"] == {"legalName": None, "address": {"country": None}}

    # Without legal details an invoice has no VAT and no e-invoice, as before.
    product_id = await create_product(gql, key, amount=1500, interval=None)
    invoice = (await _invoice(gql, key, customer_id, product_id))["invoice"]
    assert invoice["total"]["amount"] == 1500 and invoice["subtotal"] is None
    assert invoice["xmlUrl"] is None and invoice["taxRates"] == []


async def test_the_customer_edits_their_billing_details_in_the_portal(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "cy@example.com")
    session = await session_for(gql, key, customer_id)
    result = await gql(
        "mutation($i: UpdateBillingDetailsInput!) { updateBillingDetails(input: $i) {"
        " billingDetails { company vatId address { country } } userErrors { code } } }",
        {"i": {"billingDetails": _buyer("AT", "ATU 135 856 27", "Cy GmbH")}},
        token=session,
    )
    assert result["updateBillingDetails"] == {
        "billingDetails": {
            "company": "Cy GmbH",
            "vatId": "ATU13585627",
            "address": {"country": "AT"},
        },
        "userErrors": [],
    }
    seen = await gql("{ me { billingDetails { vatId } } }", token=session)
    assert seen["me"]["billingDetails"]["vatId"] == "ATU13585627"


async def test_the_portal_pages_edit_billing_details_and_offer_the_e_invoice(
    portal: Portal, cen_rules: Callable[[bytes], list[str]]
) -> None:
    gql = portal.gql
    seller = await _seller(gql, "Beispiel", SELLER)
    key = seller.test_api_key
    customer_id = await create_customer(gql, key, "dora@example.com", "Dora")
    await session_for(gql, key, customer_id)  # signIn sets the portal_session cookie
    page = await portal.http.get("/test/portal/billing-details")
    assert page.status_code == 200 and 'name="vat_id"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {
        "csrf": csrf.group(1),
        "name": "Dora Muster",
        "company": "Dora GmbH",
        "line1": "Ring 1",
        "postal_code": "1010",
        "city": "Wien",
        "country": "at",
        "vat_id": "ATU13585628",  # one check digit off
    }
    refused = await portal.http.post("/test/portal/billing-details", data=form)
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text and "ATU13585628" in refused.text
    details = await gql(
        "query($id: ID!) { customer(id: $id) { billingDetails { vatId } } }",
        {"id": customer_id},
        token=key,
    )
    assert details["customer"]["billingDetails"]["vatId"] is None
    saved = await portal.http.post(
        "/test/portal/billing-details", data={**form, "vat_id": "ATU13585627"}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/test/portal/billing-details?done=billing_saved"
    details = await gql(
        "query($id: ID!) { customer(id: $id) { billingDetails { vatId company"
        " address { country city } } } }",
        {"id": customer_id},
        token=key,
    )
    assert details["customer"]["billingDetails"] == {
        "vatId": "ATU13585627",
        "company": "Dora GmbH",
        "address": {"country": "AT", "city": "Wien"},
    }

    # The next invoice is reverse charge; the invoices page offers its PDF and its e-invoice,
    # which the session's cookie downloads.
    product_id = await create_product(gql, key, amount=1000, interval=None)
    invoice = (await _invoice(gql, key, customer_id, product_id))["invoice"]
    listing = await portal.http.get("/test/portal/invoices")
    assert f'href="/invoices/{invoice["id"]}.xml"' in listing.text
    xml = await portal.http.get(f"/invoices/{invoice['id']}.xml")
    assert xml.status_code == 200 and cen_rules(xml.content) == []
    assert _xpath(xml.content, "//ram:BuyerTradeParty/ram:Name/text()") == ["Dora GmbH"]
