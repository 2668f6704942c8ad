"""Payment history: every payment of a customer (subscriptions and one-time purchases, paid or
failed) with its status, card, product, invoice and receipt, in the API (a keyset-paged
connection) and as a hosted page; through HTTP."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from pypdf import PdfReader

from conftest import PUBLIC_URL, Portal
from services.businesses import NewBusiness
from support import (
    GOOD_CARD,
    card,
    create_customer,
    create_product,
    portal_link,
    recorded_statements,
    session_for,
    subscribe,
    token_of,
)

CREATE_PAYMENT = """
mutation($input: CreatePaymentInput!) {
  createPayment(input: $input) { payment { id status } userErrors { code } }
}"""
NODE = """
id status createdAt amount { amount currency } cardBrand cardLast4 failureCode
product { id name } invoice { id number } subscription { id } receiptUrl
"""
MY_PAYMENTS = f"""
query($first: Int, $after: String) {{
  me {{ payments(first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {NODE} }} }}
  }} }}
}}"""
CUSTOMER_PAYMENTS = f"""
query($id: ID!) {{
  customer(id: $id) {{ payments {{ totalCount edges {{ node {{ {NODE} }} }} }} }}
}}
"""


@dataclass(frozen=True)
class History:
    customer_id: str
    session: str
    subscription_id: str
    one_time_product: str
    plan_product: str


async def buy_once(portal: Portal, key: str, customer_id: str, product_id: str, number: str) -> str:
    data = await portal.gql(
        CREATE_PAYMENT,
        {"input": {"customerId": customer_id, "productId": product_id, "card": card(number)}},
        token=key,
    )
    return str(data["createPayment"]["payment"]["status"])


@pytest.fixture
async def history(portal: Portal, acme: NewBusiness) -> History:
    """A subscription paid with a Mastercard, an e-book bought once with a Visa, and an
    e-book purchase declined."""
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "hal@example.com", "Hal")
    plan = await create_product(gql, key, amount=1500, interval="MONTH", name="Pro plan")
    ebook = await create_product(gql, key, amount=900, interval=None, name="E-book")
    created = await subscribe(gql, key, customer_id, plan, number="5555555555554444")
    assert created["userErrors"] == []
    assert await buy_once(portal, key, customer_id, ebook, GOOD_CARD["number"]) == "SUCCEEDED"
    assert await buy_once(portal, key, customer_id, ebook, "4000000000000002") == "FAILED"
    session = await session_for(gql, key, customer_id)
    return History(customer_id, session, created["subscription"]["id"], ebook, plan)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_every_payment_with_status_card_product_invoice_and_receipt(
    portal: Portal, acme: NewBusiness, history: History
) -> None:
    data = await portal.gql(MY_PAYMENTS, {"first": 10}, token=history.session)
    payments = data["me"]["payments"]
    assert payments["totalCount"] == 3
    declined, ebook, plan = [edge["node"] for edge in payments["edges"]]  # newest first

    assert declined["status"] == "FAILED" and declined["failureCode"] == "CARD_DECLINED"
    assert declined["product"]["name"] == "E-book" and declined["subscription"] is None
    assert (declined["cardBrand"], declined["cardLast4"]) == ("visa", "0002")
    assert declined["receiptUrl"] is None

    assert ebook["status"] == "SUCCEEDED" and ebook["subscription"] is None
    assert ebook["product"] == {"id": history.one_time_product, "name": "E-book"}
    assert (ebook["cardBrand"], ebook["cardLast4"]) == ("visa", "4242")
    assert ebook["amount"] == {"amount": 900, "currency": "EUR"}
    assert plan["status"] == "SUCCEEDED"
    assert plan["subscription"] == {"id": history.subscription_id}
    assert plan["product"] == {"id": history.plan_product, "name": "Pro plan"}
    assert (plan["cardBrand"], plan["cardLast4"]) == ("mastercard", "4444")

    # The receipt is the paid invoice's PDF, through the signed link, without any header.
    for paid in (ebook, plan):
        url = paid["receiptUrl"]
        assert url.startswith(f"{PUBLIC_URL}/invoices/{paid['invoice']['id']}.pdf?expires=")
        response = await portal.http.get(url.removeprefix(PUBLIC_URL))
        assert response.status_code == 200
        assert paid["invoice"]["number"] in pdf_text(response.content)

    # The merchant sees the same history.
    merchant = await portal.gql(
        CUSTOMER_PAYMENTS, {"id": history.customer_id}, token=acme.test_api_key
    )

    def unsigned(node: dict[str, Any]) -> dict[str, Any]:  # a link signed a moment apart
        return {**node, "receiptUrl": bool(node["receiptUrl"])}

    seen = [unsigned(e["node"]) for e in merchant["customer"]["payments"]["edges"]]
    assert seen == [unsigned(node) for node in (declined, ebook, plan)]


async def test_pages_follow_the_keyset_cursor(portal: Portal, history: History) -> None:
    seen: list[str] = []
    after = None
    while True:
        data = await portal.gql(MY_PAYMENTS, {"first": 2, "after": after}, token=history.session)
        page = data["me"]["payments"]
        assert page["totalCount"] == 3
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    all_at_once = await portal.gql(MY_PAYMENTS, {"first": 100}, token=history.session)
    assert seen == [e["node"]["id"] for e in all_at_once["me"]["payments"]["edges"]]
    assert len(seen) == 3

    for bad in ("not-a-cursor", "x" * 500):
        error = await portal.gql.error(MY_PAYMENTS, {"after": bad}, token=history.session)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = await portal.gql.error(MY_PAYMENTS, {"first": -1}, token=history.session)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_nobody_else_sees_the_history(
    portal: Portal, acme: NewBusiness, globex: NewBusiness, history: History
) -> None:
    gql = portal.gql
    other = await create_customer(gql, acme.test_api_key, "ivy@example.com")
    other_session = await session_for(gql, acme.test_api_key, other)
    data = await gql(MY_PAYMENTS, {"first": 10}, token=other_session)
    assert data["me"]["payments"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }
    # Another business, the other mode, an unknown id: no such customer.
    for key, customer_id in (
        (globex.test_api_key, history.customer_id),
        (acme.live_api_key, history.customer_id),
        (acme.test_api_key, "cus_" + "0" * 24),
    ):
        error = await gql.error(CUSTOMER_PAYMENTS, {"id": customer_id}, token=key)
        assert error["extensions"]["code"] == "NOT_FOUND"
    # A payment of this customer is not reachable by node id from another tenant either.
    mine = await gql(MY_PAYMENTS, {"first": 1}, token=history.session)
    payment_id = mine["me"]["payments"]["edges"][0]["node"]["id"]
    for token in (globex.test_api_key, other_session):
        error = await gql.error(
            "query($id: ID!) { node(id: $id) { id } }", {"id": payment_id}, token
        )
        assert error["extensions"]["code"] == "NOT_FOUND"


async def test_statement_count_does_not_grow_with_the_history(
    portal: Portal, acme: NewBusiness, history: History
) -> None:
    async def statements_for(session: str) -> tuple[int, int]:
        with recorded_statements() as statements:
            data = await portal.gql(MY_PAYMENTS, {"first": 50}, token=session)
        nodes = [edge["node"] for edge in data["me"]["payments"]["edges"]]
        assert all(node["product"]["name"] for node in nodes)
        return len(nodes), len(statements)

    key = acme.test_api_key
    small = await create_customer(portal.gql, key, "jo@example.com")
    await buy_once(portal, key, small, history.one_time_product, GOOD_CARD["number"])
    small_rows, small_count = await statements_for(await session_for(portal.gql, key, small))
    for _ in range(3):
        await buy_once(
            portal, key, history.customer_id, history.one_time_product, "4242424242424242"
        )
    big_rows, big_count = await statements_for(history.session)
    assert (small_rows, big_rows) == (1, 6)
    assert big_count == small_count


ROW_RE = re.compile(r'<tr id="(pay_[0-9a-z]+)">(.*?)</tr>', re.S)


async def test_hosted_page(portal: Portal, acme: NewBusiness, history: History) -> None:
    link = await portal_link(portal.gql, acme.test_api_key, history.customer_id)
    landing = await portal.http.get(f"/test/session/{token_of(link)}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', landing.text)
    assert csrf
    await portal.http.post(f"/test/session/{token_of(link)}", data={"csrf": csrf.group(1)})

    home = await portal.http.get("/test/portal")
    assert '<a href="/test/portal/payments">Payments</a>' in home.text

    page = await portal.http.get("/test/portal/payments")
    assert page.status_code == 200
    assert '<a href="/test/portal/payments" aria-current="page">Payments</a>' in page.text
    rows = dict(ROW_RE.findall(page.text))
    api = await portal.gql(MY_PAYMENTS, {"first": 10}, token=history.session)
    nodes: list[dict[str, Any]] = [e["node"] for e in api["me"]["payments"]["edges"]]
    assert list(rows) == [node["id"] for node in nodes]
    declined, ebook, plan = (rows[node["id"]] for node in nodes)
    assert "Failed" in declined and "declined" in declined and "Visa •••• 0002" in declined
    assert "Receipt (PDF)" not in declined
    assert "E-book" in ebook and "one-time purchase" in ebook and "Visa •••• 4242" in ebook
    assert "Pro plan" in plan and "one-time purchase" not in plan
    assert "Mastercard •••• 4444" in plan and "€15.00" in plan
    for row, node in ((ebook, nodes[1]), (plan, nodes[2])):
        assert node["invoice"]["number"] in row
        receipt = re.search(r'href="(/invoices/inv_[0-9a-z]+\.pdf\?lang=en)"', row)
        assert receipt, row
        response = await portal.http.get(receipt.group(1))  # the session cookie
        assert node["invoice"]["number"] in pdf_text(response.content)

    german = await portal.http.get("/test/portal/payments?lang=de")
    assert "Zahlungsverlauf" in german.text and "Einmalkauf" in german.text

    # A cursor we did not write is no page; without a session the page asks to sign in.
    assert (await portal.http.get("/test/portal/payments?after=nonsense")).status_code == 404
    portal.http.cookies.clear()
    assert (await portal.http.get("/test/portal/payments")).status_code == 401
