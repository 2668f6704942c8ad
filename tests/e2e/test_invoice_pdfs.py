"""Invoice PDFs: `GET /invoices/{id}.pdf` for the owning customer (session header or cookie), the
merchant's key, or the short-lived signed `pdfUrl`; to everyone else the invoice does not
exist."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from pypdf import PdfReader

from conftest import PUBLIC_URL, Portal
from models.clock import clock
from services.businesses import NewBusiness
from support import GOOD_CARD, create_customer, create_product, session_for, subscribe

MY_INVOICES = "{ me { invoices { edges { node { id number pdfUrl } } } } }"


@dataclass(frozen=True)
class Billed:
    customer_id: str
    session: str
    invoice_id: str
    number: str


@pytest.fixture
async def billed(portal: Portal, acme: NewBusiness) -> Billed:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada Lovelace")
    product_id = await create_product(gql, key, amount=1500, name="Pro plan")
    created = await subscribe(gql, key, customer_id, product_id)
    assert created["invoice"]["status"] == "PAID"
    session = await session_for(gql, key, customer_id)
    # signIn also set the portal_session cookie on this client; each request here says
    # explicitly which credential it carries.
    portal.http.cookies.clear()
    return Billed(customer_id, session, created["invoice"]["id"], created["invoice"]["number"])


def pdf_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def local(url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/invoices/"), url
    return url.removeprefix(PUBLIC_URL)


async def test_owner_downloads_with_session_header_or_cookie(
    portal: Portal, billed: Billed
) -> None:
    path = f"/invoices/{billed.invoice_id}.pdf"

    text = pdf_text(await portal.http.get(path, headers=bearer(billed.session)))
    assert billed.number in text
    assert "15.00" in text
    assert "Invoice" in text and "Paid" in text
    assert "Ada Lovelace" in text and "Pro plan" in text

    # The hosted pages send the portal_session cookie instead of a header.
    cookie = {"Cookie": f"portal_session={billed.session}"}
    text = pdf_text(await portal.http.get(path, headers=cookie))
    assert billed.number in text and "15.00" in text


async def test_german_labels_with_lang_de(portal: Portal, billed: Billed) -> None:
    response = await portal.http.get(
        f"/invoices/{billed.invoice_id}.pdf?lang=de", headers=bearer(billed.session)
    )
    text = pdf_text(response)
    assert "Rechnung" in text
    assert "Bezahlt" in text
    assert "15,00" in text
    assert billed.number in text
    assert "Invoice number" not in text


async def test_merchant_key_downloads_its_invoices(
    portal: Portal, acme: NewBusiness, billed: Billed
) -> None:
    response = await portal.http.get(
        f"/invoices/{billed.invoice_id}.pdf", headers=bearer(acme.test_api_key)
    )
    assert billed.number in pdf_text(response)


async def test_everyone_else_gets_not_found_or_unauthenticated(
    portal: Portal, acme: NewBusiness, globex: NewBusiness, billed: Billed
) -> None:
    path = f"/invoices/{billed.invoice_id}.pdf"
    bob = await create_customer(portal.gql, acme.test_api_key, "bob@example.com", "Bob")
    bob_session = await session_for(portal.gql, acme.test_api_key, bob)
    portal.http.cookies.clear()

    for token in (bob_session, globex.test_api_key, globex.live_api_key, acme.live_api_key):
        response = await portal.http.get(path, headers=bearer(token))
        assert response.status_code == 404, response.text
        assert error_code(response) == "NOT_FOUND"
        assert b"%PDF" not in response.content
        assert billed.number not in response.text

    # Another customer's cookie is no better than their header.
    response = await portal.http.get(path, headers={"Cookie": f"portal_session={bob_session}"})
    assert response.status_code == 404

    # An id that was never issued looks the same as someone else's invoice.
    missing = await portal.http.get(
        "/invoices/inv_000000000000000000000000.pdf", headers=bearer(globex.test_api_key)
    )
    assert missing.status_code == 404 and error_code(missing) == "NOT_FOUND"

    for headers in ({}, bearer("not-a-session"), bearer("sk_test_not_a_key")):
        response = await portal.http.get(path, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert error_code(response) == "UNAUTHENTICATED"
        assert b"%PDF" not in response.content


async def test_signed_pdf_url_works_without_a_header_for_15_minutes(
    portal: Portal, billed: Billed
) -> None:
    clock.freeze()
    data = await portal.gql(MY_INVOICES, token=billed.session)
    [invoice] = [e["node"] for e in data["me"]["invoices"]["edges"]]
    assert invoice["id"] == billed.invoice_id
    url = local(invoice["pdfUrl"])

    assert billed.number in pdf_text(await portal.http.get(url))
    clock.advance(timedelta(minutes=14))
    assert billed.number in pdf_text(await portal.http.get(url))

    clock.advance(timedelta(minutes=2))  # 16 minutes after the query
    expired = await portal.http.get(url)
    assert expired.status_code == 403
    assert b"%PDF" not in expired.content

    # Asking again gives a fresh link that works.
    again = await portal.gql(MY_INVOICES, token=billed.session)
    fresh = local(again["me"]["invoices"]["edges"][0]["node"]["pdfUrl"])
    assert fresh != url
    assert billed.number in pdf_text(await portal.http.get(fresh))


async def test_signed_url_cannot_be_tampered_with_or_moved_to_another_invoice(
    portal: Portal, acme: NewBusiness, billed: Billed
) -> None:
    gql, key = portal.gql, acme.test_api_key
    product_id = await create_product(gql, key, amount=900, interval=None, name="Setup fee")
    other = await gql(
        """mutation($input: CreatePaymentInput!) {
             createPayment(input: $input) { invoice { id } userErrors { code } } }""",
        {
            "input": {
                "customerId": billed.customer_id,
                "productId": product_id,
                "card": GOOD_CARD,
            }
        },
        token=key,
    )
    assert other["createPayment"]["userErrors"] == []
    other_id = other["createPayment"]["invoice"]["id"]

    urls = {
        e["node"]["id"]: local(e["node"]["pdfUrl"])
        for e in (await gql(MY_INVOICES, token=billed.session))["me"]["invoices"]["edges"]
    }
    assert set(urls) == {billed.invoice_id, other_id}
    own = urlsplit(urls[billed.invoice_id])
    params = {k: v[0] for k, v in parse_qs(own.query).items()}
    assert set(params) == {"expires", "signature"}
    # The genuine link works.
    assert billed.number in pdf_text(await portal.http.get(urls[billed.invoice_id]))

    signature = params["signature"]

    def other_digit(char: str) -> str:
        return "0" if char != "0" else "1"

    tampered = [
        {**params, "signature": signature[:-1] + other_digit(signature[-1])},
        {**params, "signature": other_digit(signature[0]) + signature[1:]},
        {**params, "signature": signature.upper()},
        {**params, "signature": ""},
        {**params, "expires": str(int(params["expires"]) + 3600)},
        {"expires": params["expires"]},
        {"signature": signature},
    ]
    for query in tampered:
        response = await portal.http.get(f"{own.path}?{urlencode(query)}")
        assert response.status_code == 403, (query, response.status_code)
        assert b"%PDF" not in response.content

    # Another invoice's valid signature does not open this one, nor the other way round.
    other_params = parse_qs(urlsplit(urls[other_id]).query)
    for path, query in (
        (own.path, urlencode({k: v[0] for k, v in other_params.items()})),
        (f"/invoices/{other_id}.pdf", own.query),
    ):
        response = await portal.http.get(f"{path}?{query}")
        assert response.status_code == 403, path
        assert b"%PDF" not in response.content
