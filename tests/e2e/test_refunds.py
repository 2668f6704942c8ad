"""Refunds and credit notes through the API: the money goes back through the gateway once, a
credit note with its own gapless numbers refers to the invoice it corrects, partial refunds
add up to what was paid and never more, also when asked for at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from facturx import get_xml_from_pdf
from lxml import etree

from conftest import Portal
from models import Refund, WebhookEvent
from services.businesses import NewBusiness, create_business
from support import (
    GraphQLClient,
    MailCatcher,
    code_of,
    create_customer,
    create_product,
    deliver_mail,
    session_for,
    text_body,
)

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
SELLER = {
    "legalName": "Beispiel Software GmbH",
    "address": {"line1": "Hauptstraße 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
    "vatId": "DE136695976",
    "phone": "+49 30 1234567",
}
REFUND = """
mutation($i: RefundPaymentInput!) {
  refundPayment(input: $i) {
    refund { id amount { amount } status reason }
    payment { id status refundedAmount { amount } }
    creditNote {
      id number kind total { amount } subtotal { amount } tax { amount } amountDue { amount }
      xmlUrl pdfUrl creditNoteFor { number }
      taxRates { category rate taxableAmount { amount } taxAmount { amount } }
    }
    userErrors { code field message }
  }
}"""


async def _paid(
    portal: Portal, email: str = "ann@example.com"
) -> tuple[NewBusiness, str, dict[str, Any]]:
    """A German seller with legal details, and a paid one-time invoice of 19.99 + 19 % VAT
    (3.80): 23.79."""
    gql = portal.gql
    seller = await create_business("Beispiel", "billing@seller.example", "de")
    key = seller.test_api_key
    await gql(
        "mutation($i: UpdateLegalDetailsInput!) { updateLegalDetails(input: $i)"
        " { userErrors { code } } }",
        {"i": SELLER},
        token=key,
    )
    customer_id = await create_customer(gql, key, email, "Ann")
    product_id = await create_product(gql, key, amount=1999, interval=None, name="Lizenz")
    data = await gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) {"
        " payment { id amount { amount } } invoice { id number } userErrors { code } } }",
        {
            "i": {
                "customerId": customer_id,
                "productId": product_id,
                "card": {
                    "number": "4242424242424242",
                    "expMonth": 12,
                    "expYear": 2034,
                    "cvc": "123",
                },
            }
        },
        token=key,
    )
    payload = data["createPayment"]
    assert payload["payment"]["amount"]["amount"] == 2379, payload
    return seller, customer_id, payload


async def _refund(
    gql: GraphQLClient, key: str, payment_id: str, amount: int | None = None, **extra: Any
) -> dict[str, Any]:
    data = await gql(REFUND, {"i": {"paymentId": payment_id, "amount": amount, **extra}}, key)
    return dict(data["refundPayment"])


def _xpath(xml: bytes, path: str) -> list[str]:
    return [str(value) for value in etree.fromstring(xml).xpath(path, namespaces=NS)]


async def test_a_full_refund_issues_a_credit_note_that_mirrors_the_invoice(
    portal: Portal, smtp: MailCatcher, cen_rules: Callable[[bytes], list[str]]
) -> None:
    seller, customer_id, paid = await _paid(portal)
    key = seller.test_api_key
    refunded = await _refund(portal.gql, key, paid["payment"]["id"], reason="Cancelled order")
    assert refunded["userErrors"] == []
    assert refunded["refund"]["status"] == "SUCCEEDED"
    assert refunded["refund"]["amount"]["amount"] == 2379
    assert refunded["payment"] == {
        "id": paid["payment"]["id"],
        "status": "SUCCEEDED",
        "refundedAmount": {"amount": 2379},
    }
    note = refunded["creditNote"]
    assert note["number"] == "TEST-CN-000001" and note["kind"] == "CREDIT_NOTE"
    assert note["creditNoteFor"] == {"number": paid["invoice"]["number"]}
    assert (note["total"]["amount"], note["subtotal"]["amount"], note["tax"]["amount"]) == (
        2379,
        1999,
        380,
    )
    assert note["amountDue"]["amount"] == 0

    xml = (await portal.http.get(note["xmlUrl"])).content
    assert cen_rules(xml) == []
    assert _xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert _xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [
        paid["invoice"]["number"]
    ]
    pdf = await portal.http.get(note["pdfUrl"])
    assert pdf.status_code == 200
    name, embedded = get_xml_from_pdf(pdf.content, check_xsd=True)
    assert name == "factur-x.xml" and cen_rules(embedded) == []
    assert _xpath(embedded, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]

    # The original lists it; the customer sees both and is told.
    original = await portal.gql(
        "query($id: ID!) { node(id: $id) { ... on Invoice { creditNotes { number } } } }",
        {"id": paid["invoice"]["id"]},
        token=key,
    )
    assert original["node"]["creditNotes"] == [{"number": "TEST-CN-000001"}]
    session = await session_for(portal.gql, key, customer_id)
    mine = await portal.gql("{ me { invoices { edges { node { number kind } } } } }", token=session)
    numbers = {
        edge["node"]["number"]: edge["node"]["kind"] for edge in mine["me"]["invoices"]["edges"]
    }
    assert numbers == {paid["invoice"]["number"]: "INVOICE", "TEST-CN-000001": "CREDIT_NOTE"}
    await deliver_mail(portal.settings)
    [mail] = [m for m in smtp.messages if "Erstattung" in m["Subject"] or "refund" in m["Subject"]]
    assert "TEST-CN-000001" in text_body(mail) and "23,79" in text_body(mail)
    events = await WebhookEvent.filter(business_id=seller.business.id, type="refund.succeeded")
    assert [e.payload["data"]["credit_note_number"] for e in events] == ["TEST-CN-000001"]


async def test_partial_refunds_add_up_to_what_was_paid_and_never_more(
    portal: Portal, cen_rules: Callable[[bytes], list[str]]
) -> None:
    seller, _, paid = await _paid(portal)
    key, payment_id = seller.test_api_key, paid["payment"]["id"]

    # 10.00 of 23.79 back: its VAT taken out as of a gross price, 10.00 * 19 / 119 = 1.5966
    # -> 1.60, net 8.40.
    first = await _refund(portal.gql, key, payment_id, 1000)
    assert (first["creditNote"]["subtotal"]["amount"], first["creditNote"]["tax"]["amount"]) == (
        840,
        160,
    )
    # The rest, 13.79: 13.79 * 19 / 119 = 2.2017 -> 2.20, net 11.59. Together: 19.99 + 3.80.
    rest = await _refund(portal.gql, key, payment_id)
    assert rest["refund"]["amount"]["amount"] == 1379
    assert (rest["creditNote"]["subtotal"]["amount"], rest["creditNote"]["tax"]["amount"]) == (
        1159,
        220,
    )
    assert rest["creditNote"]["number"] == "TEST-CN-000002"
    assert rest["payment"]["refundedAmount"]["amount"] == 2379
    for note in (first["creditNote"], rest["creditNote"]):
        assert cen_rules((await portal.http.get(note["xmlUrl"])).content) == []

    more = await _refund(portal.gql, key, payment_id, 1)
    assert [e["code"] for e in more["userErrors"]] == ["REFUND_EXCEEDS_PAYMENT"]
    assert more["refund"] is None
    assert await Refund.filter(payment_id=payment_id).count() == 2


async def test_refunds_asked_for_at_once_never_exceed_the_payment(portal: Portal) -> None:
    seller, _, paid = await _paid(portal)
    key, payment_id = seller.test_api_key, paid["payment"]["id"]
    results = await asyncio.gather(*(_refund(portal.gql, key, payment_id, 500) for _ in range(10)))
    ok = [r for r in results if not r["userErrors"]]
    refused = [r for r in results if r["userErrors"]]
    assert len(ok) == 4  # 4 * 5.00 = 20.00 of 23.79
    assert {e["code"] for r in refused for e in r["userErrors"]} == {"REFUND_EXCEEDS_PAYMENT"}
    numbers = sorted(r["creditNote"]["number"] for r in ok)
    assert numbers == [f"TEST-CN-{n:06d}" for n in range(1, 5)]  # no gaps, no repeats
    final = await _refund(portal.gql, key, payment_id)
    assert final["refund"]["amount"]["amount"] == 379
    assert final["payment"]["refundedAmount"]["amount"] == 2379


async def test_refunds_that_cannot_be_are_refused_and_change_nothing(
    portal: Portal, globex: NewBusiness
) -> None:
    seller, customer_id, paid = await _paid(portal)
    key, payment_id = seller.test_api_key, paid["payment"]["id"]
    for amount, extra, code in (
        (2380, {}, "REFUND_EXCEEDS_PAYMENT"),
        (0, {}, "INVALID_INPUT"),
        (-5, {}, "INVALID_INPUT"),
        (100, {"reason": "x" * 301}, "INVALID_INPUT"),
    ):
        result = await _refund(portal.gql, key, payment_id, amount, **extra)
        assert [e["code"] for e in result["userErrors"]] == [code], result
    # Another business's key, or its live mode: no such payment.
    for other in (globex.test_api_key, seller.live_api_key):
        result = await _refund(portal.gql, other, payment_id, 100)
        assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"]
    # A customer cannot refund.
    session = await session_for(portal.gql, key, customer_id)
    error = await portal.gql.error(REFUND, {"i": {"paymentId": payment_id}}, token=session)
    assert code_of(error) == "UNAUTHENTICATED"
    assert await Refund.filter(payment_id=payment_id).count() == 0

    # The same request twice with one key: one refund.
    once = await _refund(portal.gql, key, payment_id, 500, idempotencyKey="refund-1")
    again = await _refund(portal.gql, key, payment_id, 500, idempotencyKey="refund-1")
    assert once["refund"]["id"] == again["refund"]["id"]
    assert again["payment"]["refundedAmount"]["amount"] == 500
    assert await Refund.filter(payment_id=payment_id).count() == 1
