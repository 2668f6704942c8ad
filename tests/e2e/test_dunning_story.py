"""The heart of the portal, end to end through HTTP: a renewal fails, the subscription goes
ON_HOLD, the customer follows the emailed link, a declined card changes nothing, a good card
pays what is owed and the subscription is ACTIVE again; the invoice PDF shows it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader

from conftest import Portal
from models import WebhookEvent
from services.businesses import NewBusiness
from support import (
    SIGN_IN,
    UPDATE_PAYMENT_METHOD,
    MailCatcher,
    card,
    create_customer,
    create_product,
    deliver_mail,
    link_in,
    portal_link,
    subscribe,
    text_body,
    token_of,
)

SUBSCRIPTION = """
query($id: ID!) {
  subscription(id: $id) {
    status nextBillingDate outstandingAmount { amount currency formatted }
    paymentMethod { brand last4 }
  }
}"""

DASHBOARD = """
{ me {
    subscriptions { edges { node { id status product { name } paymentMethod { last4 }
                                   outstandingAmount { amount } } } }
    invoices { totalCount edges { node { id number status total { amount formatted }
                                         amountDue { amount } pdfUrl } } }
    payments { edges { node { status amount { amount } failureCode
                              invoice { number } paymentMethod { last4 } } } }
    paymentMethods { id brand last4 }
} }"""


async def test_on_hold_subscription_is_revived_with_a_new_card(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "ada@example.com", "Ada Lovelace")
    product_id = await create_product(gql, key, amount=1500, interval="MONTH", name="Pro plan")

    # Subscribe with 4242…: ACTIVE, first invoice PAID, receipt emailed.
    created = await subscribe(gql, key, customer_id, product_id)
    assert created["userErrors"] == []
    assert created["subscription"]["status"] == "ACTIVE"
    assert created["invoice"]["status"] == "PAID"
    assert created["payment"]["amount"] == {"amount": 1500, "currency": "EUR"}
    subscription_id = created["subscription"]["id"]
    first_invoice = created["invoice"]["number"]
    assert await deliver_mail(portal.settings) == 1
    [receipt] = smtp.to("ada@example.com")
    assert first_invoice in text_body(receipt)

    # The customer switches to 4000000000000341 while ACTIVE: swapped, nothing charged.
    link = await portal_link(gql, key, customer_id)
    session = (await gql(SIGN_IN, {"input": {"token": token_of(link)}}))["signIn"]["sessionToken"]
    swapped = (
        await gql(
            UPDATE_PAYMENT_METHOD,
            {"input": {"subscriptionId": subscription_id, "card": card("4000000000000341")}},
            token=session,
        )
    )["updatePaymentMethod"]
    assert swapped["userErrors"] == []
    assert swapped["payment"] is None
    assert swapped["subscription"]["status"] == "ACTIVE"
    assert swapped["subscription"]["paymentMethod"]["last4"] == "0341"

    # Move the renewal into the past and run the billing cycle: the charge is declined.
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    moved = await gql(
        "mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i)"
        " { subscription { nextBillingDate } userErrors { code } } }",
        {"i": {"subscriptionId": subscription_id, "nextBillingDate": past}},
        token=key,
    )
    assert moved["updateSubscription"]["userErrors"] == []
    cycle = await gql(
        "mutation { runBillingCycle { renewedCount failedCount userErrors { code } } }", token=key
    )
    assert cycle["runBillingCycle"] == {"renewedCount": 0, "failedCount": 1, "userErrors": []}
    state = (await gql(SUBSCRIPTION, {"id": subscription_id}, token=key))["subscription"]
    assert state["status"] == "ON_HOLD"
    assert state["outstandingAmount"]["amount"] == 1500

    # The customer is emailed a fresh portal link to update the card.
    smtp.messages.clear()
    await deliver_mail(portal.settings)
    [on_hold_mail] = smtp.to("ada@example.com")
    assert "Pro plan" in text_body(on_hold_mail)
    dunning_link = link_in(on_hold_mail)
    signed = (await gql(SIGN_IN, {"input": {"token": token_of(dunning_link)}}))["signIn"]
    assert signed["userErrors"] == []
    session = signed["sessionToken"]

    # Insufficient funds: still ON_HOLD, invoice still OPEN, the failed payment recorded.
    declined = (
        await gql(
            UPDATE_PAYMENT_METHOD,
            {
                "input": {
                    "subscriptionId": subscription_id,
                    "card": card("4000000000009995"),
                    "idempotencyKey": "try-1",
                }
            },
            token=session,
        )
    )["updatePaymentMethod"]
    assert [e["code"] for e in declined["userErrors"]] == ["INSUFFICIENT_FUNDS"]
    assert declined["subscription"]["status"] == "ON_HOLD"
    assert declined["payment"]["status"] == "FAILED"
    assert declined["payment"]["failureCode"] == "INSUFFICIENT_FUNDS"
    assert declined["invoice"]["status"] == "OPEN"
    assert declined["subscription"]["outstandingAmount"]["amount"] == 1500

    # A good card: the dues are charged, the invoice PAID, ACTIVE with a future renewal.
    smtp.messages.clear()
    paid = (
        await gql(
            UPDATE_PAYMENT_METHOD,
            {
                "input": {
                    "subscriptionId": subscription_id,
                    "card": card("4242424242424242"),
                    "idempotencyKey": "try-2",
                }
            },
            token=session,
        )
    )["updatePaymentMethod"]
    assert paid["userErrors"] == []
    assert paid["subscription"]["status"] == "ACTIVE"
    assert paid["payment"]["status"] == "SUCCEEDED"
    assert paid["payment"]["amount"]["amount"] == 1500
    assert paid["invoice"]["status"] == "PAID"
    assert paid["invoice"]["amountDue"]["amount"] == 0
    assert paid["subscription"]["outstandingAmount"]["amount"] == 0
    assert paid["subscription"]["paymentMethod"]["last4"] == "4242"
    next_billing = datetime.fromisoformat(paid["subscription"]["nextBillingDate"])
    assert next_billing > datetime.now(UTC) + timedelta(days=27)

    # Both emails: the receipt and the reactivation notice.
    await deliver_mail(portal.settings)
    subjects = sorted(str(m["Subject"]) for m in smtp.to("ada@example.com"))
    assert len(subjects) == 2, subjects
    assert any("eceipt" in s for s in subjects) and any(
        "Pro plan" in s or "activ" in s for s in subjects
    )

    # The dashboard shows the whole history.
    dashboard = (await gql(DASHBOARD, token=session))["me"]
    statuses = [e["node"]["status"] for e in dashboard["payments"]["edges"]]
    assert statuses == ["SUCCEEDED", "FAILED", "FAILED", "SUCCEEDED"]
    invoices = [e["node"] for e in dashboard["invoices"]["edges"]]
    assert [i["status"] for i in invoices] == ["PAID", "PAID"]
    assert invoices[1]["number"] == first_invoice

    # The PDF downloads, with the session and through the signed link, and reads back.
    renewal_invoice = paid["invoice"]
    response = await portal.http.get(
        f"/invoices/{renewal_invoice['id']}.pdf", headers={"Authorization": f"Bearer {session}"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert renewal_invoice["number"] in text
    assert "15.00" in text and "Paid" in text
    signed_url = invoices[0]["pdfUrl"]
    anonymous = await portal.http.get(signed_url.removeprefix("http://portal.test"))
    assert anonymous.status_code == 200 and anonymous.content.startswith(b"%PDF")

    # The events a merchant's webhook receives, in order: the payment before the reactivation.
    types = [
        e.type
        for e in await WebhookEvent.filter(business_id=acme.business.id).order_by("created_at")
    ]
    assert types[-2:] == ["payment.succeeded", "subscription.active"]
    assert "subscription.on_hold" in types and "payment.failed" in types
    on_hold = types.index("subscription.on_hold")
    assert types[on_hold:].count("subscription.active") == 1
