"""Malformed input gets a clear error, never a server error, and card data never comes back in
an error message or reaches a log."""

from __future__ import annotations

import logging

import pytest

from conftest import Portal
from services.businesses import NewBusiness
from support import create_customer, session_for

ADD_CARD = """
mutation($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) { paymentMethod { id } userErrors { code field } }
}"""


async def test_card_number_of_the_wrong_type_is_not_echoed_or_logged(
    portal: Portal, acme: NewBusiness, caplog: pytest.LogCaptureFixture
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "kim@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    caplog.set_level(logging.DEBUG)
    as_variable = await portal.gql.raw(
        ADD_CARD,
        {
            "input": {
                "card": {"number": 4242424242424242, "expMonth": 12, "expYear": 2034, "cvc": 987}
            }
        },
        token=session,
    )
    inline = await portal.gql.raw(
        "mutation { addPaymentMethod(input: {card: {number: 4000000000009995, expMonth: 12,"
        " expYear: 2034, cvc: 987}}) { userErrors { code } } }",
        token=session,
    )
    for response in (as_variable, inline):
        body = response.text
        assert "errors" in response.json()
        assert "4242424242424242" not in body and "4000000000009995" not in body
        assert "987" not in body
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "4242424242424242" not in logged and "4000000000009995" not in logged


async def test_non_ascii_digits_are_an_invalid_card_not_a_server_error(
    portal: Portal, acme: NewBusiness
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "lou@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    for number, cvc, code in (
        ("424242424242424²", "123", "INVALID_CARD_NUMBER"),
        ("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "123", "INVALID_CARD_NUMBER"),
        ("4242424242424242", "1²3", "INCORRECT_CVC"),
    ):
        data = await portal.gql(
            ADD_CARD,
            {"input": {"card": {"number": number, "expMonth": 12, "expYear": 2034, "cvc": cvc}}},
            token=session,
        )
        assert data["addPaymentMethod"]["paymentMethod"] is None
        assert [e["code"] for e in data["addPaymentMethod"]["userErrors"]] == [code]
    me = await portal.gql("{ me { paymentMethods { id } } }", token=session)
    assert me["me"]["paymentMethods"] == []


async def test_malformed_pdf_link_expiry_is_refused(portal: Portal, acme: NewBusiness) -> None:
    for expires in ("²", "9" * 5000, "-1", ""):
        response = await portal.http.get(
            "/invoices/inv_x.pdf", params={"expires": expires, "signature": "00"}
        )
        assert response.status_code == 403, expires
