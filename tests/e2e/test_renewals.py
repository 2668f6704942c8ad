"""Renewals: `runBillingCycle` (and `portal billing run`) renew what is due and nothing else,
end subscriptions set to end, stay within the caller's business and mode, and a failed renewal
emails a portal link that signs the customer in once."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import Portal
from models import Mode, PaymentMethod, Subscription, SubscriptionStatus, TimeInterval
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    SIGN_IN,
    UPDATE_PAYMENT_METHOD,
    GraphQLClient,
    MailCatcher,
    card,
    create_customer,
    create_product,
    deliver_mail,
    link_in,
    session_for,
    subscribe,
    text_body,
    token_of,
)

ROOT = Path(__file__).resolve().parents[2]

RUN_BILLING_CYCLE = """
mutation { runBillingCycle { renewedCount failedCount endedCount userErrors { code } } }"""

UPDATE_SUBSCRIPTION = """
mutation($input: UpdateSubscriptionInput!) {
  updateSubscription(input: $input) {
    subscription { id nextBillingDate }
    userErrors { code field message }
  }
}"""

CANCEL = """
mutation($input: CancelSubscriptionInput!) {
  cancelSubscription(input: $input) {
    subscription { status cancelAtNextBillingDate }
    userErrors { code }
  }
}"""

SUBSCRIPTION = """
query($id: ID!) {
  subscription(id: $id) {
    id status currentPeriodStart nextBillingDate cancelAtNextBillingDate cancelledAt
    outstandingAmount { amount }
  }
}"""

CUSTOMER_BILLING = """
query($id: ID!) {
  customer(id: $id) {
    subscriptions { totalCount edges { node { id status nextBillingDate } } }
    invoices {
      totalCount
      edges { node { id number status total { amount currency } amountDue { amount }
                     periodStart periodEnd subscription { id } } }
    }
    payments { totalCount edges { node { id status amount { amount } invoice { id } } } }
  }
}"""

NOTHING = {"renewedCount": 0, "failedCount": 0, "endedCount": 0, "userErrors": []}


async def run_cycle(gql: GraphQLClient, key: str) -> dict[str, Any]:
    return dict((await gql(RUN_BILLING_CYCLE, token=key))["runBillingCycle"])


async def move_billing_date(gql: GraphQLClient, key: str, sub_id: str, when: datetime) -> None:
    data = await gql(
        UPDATE_SUBSCRIPTION,
        {"input": {"subscriptionId": sub_id, "nextBillingDate": when.isoformat()}},
        token=key,
    )
    assert data["updateSubscription"]["userErrors"] == [], data
    assert at(data["updateSubscription"]["subscription"]["nextBillingDate"]) == when


async def subscription(gql: GraphQLClient, key: str, sub_id: str) -> dict[str, Any]:
    return dict((await gql(SUBSCRIPTION, {"id": sub_id}, token=key))["subscription"])


async def billing(gql: GraphQLClient, key: str, customer_id: str) -> dict[str, Any]:
    return dict((await gql(CUSTOMER_BILLING, {"id": customer_id}, token=key))["customer"])


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def subscribed(portal: Portal, key: str, email: str = "ada@example.com") -> tuple[str, str]:
    """A customer with an ACTIVE monthly subscription paid by 4242…: (customer id, sub id)."""
    customer_id = await create_customer(portal.gql, key, email, "Ada")
    product_id = await create_product(portal.gql, key, amount=1500, name="Pro plan")
    created = await subscribe(portal.gql, key, customer_id, product_id)
    assert created["subscription"]["status"] == "ACTIVE", created
    return customer_id, created["subscription"]["id"]


async def test_due_subscription_renews_with_a_paid_invoice_and_a_receipt(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze(datetime(2027, 3, 15, 12, 0, tzinfo=UTC))
    customer_id, sub_id = await subscribed(portal, key)
    await deliver_mail(portal.settings)
    smtp.messages.clear()

    due = datetime(2027, 3, 15, 11, 0, tzinfo=UTC)
    await move_billing_date(gql, key, sub_id, due)
    clock.advance(timedelta(minutes=5))
    assert await run_cycle(gql, key) == {**NOTHING, "renewedCount": 1}

    # The next period runs from the old billing date to one month later.
    state = await subscription(gql, key, sub_id)
    assert state["status"] == "ACTIVE"
    assert at(state["currentPeriodStart"]) == due
    assert at(state["nextBillingDate"]) == datetime(2027, 4, 15, 11, 0, tzinfo=UTC)
    assert at(state["nextBillingDate"]) > clock.now()
    assert state["outstandingAmount"]["amount"] == 0

    after = await billing(gql, key, customer_id)
    assert after["invoices"]["totalCount"] == 2
    renewal = after["invoices"]["edges"][0]["node"]
    assert renewal["status"] == "PAID"
    assert renewal["total"] == {"amount": 1500, "currency": "EUR"}
    assert renewal["amountDue"]["amount"] == 0
    assert renewal["subscription"] == {"id": sub_id}
    assert at(renewal["periodStart"]) == due
    assert at(renewal["periodEnd"]) == datetime(2027, 4, 15, 11, 0, tzinfo=UTC)
    first = after["invoices"]["edges"][1]["node"]
    assert renewal["number"] != first["number"]
    payment = after["payments"]["edges"][0]["node"]
    assert payment["status"] == "SUCCEEDED"
    assert payment["amount"]["amount"] == 1500
    assert payment["invoice"] == {"id": renewal["id"]}

    assert await deliver_mail(portal.settings) == 1
    [receipt] = smtp.to("ada@example.com")
    assert "receipt" in str(receipt["Subject"]).lower()
    assert renewal["number"] in text_body(receipt)

    # Renewed once: running again changes nothing.
    assert await run_cycle(gql, key) == NOTHING
    assert (await billing(gql, key, customer_id))["invoices"]["totalCount"] == 2


async def test_nothing_happens_before_the_billing_date(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id, sub_id = await subscribed(portal, key)
    before = await subscription(gql, key, sub_id)
    billed = await billing(gql, key, customer_id)

    assert await run_cycle(gql, key) == NOTHING
    clock.advance(at(before["nextBillingDate"]) - clock.now() - timedelta(minutes=1))
    assert await run_cycle(gql, key) == NOTHING
    assert await subscription(gql, key, sub_id) == before
    assert await billing(gql, key, customer_id) == billed

    # Once the date comes, it renews.
    clock.advance(timedelta(minutes=2))
    assert await run_cycle(gql, key) == {**NOTHING, "renewedCount": 1}
    renewed = await subscription(gql, key, sub_id)
    assert at(renewed["nextBillingDate"]) > clock.now()


async def test_subscription_set_to_end_ends_at_the_billing_date_without_a_charge(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id, sub_id = await subscribed(portal, key)
    session = await session_for(gql, key, customer_id)
    cancelled = await gql(
        CANCEL,
        {"input": {"subscriptionId": sub_id, "atPeriodEnd": True, "reason": "TOO_EXPENSIVE"}},
        token=session,
    )
    assert cancelled["cancelSubscription"]["subscription"]["cancelAtNextBillingDate"] is True
    billed = await billing(gql, key, customer_id)
    ends = at((await subscription(gql, key, sub_id))["nextBillingDate"])
    await deliver_mail(portal.settings)
    smtp.messages.clear()

    # Still running until the billing date.
    clock.advance(ends - clock.now() - timedelta(minutes=1))
    assert await run_cycle(gql, key) == NOTHING
    assert (await subscription(gql, key, sub_id))["status"] == "ACTIVE"

    clock.advance(timedelta(minutes=2))
    assert await run_cycle(gql, key) == {**NOTHING, "endedCount": 1}
    state = await subscription(gql, key, sub_id)
    assert state["status"] == "CANCELLED"
    assert at(state["cancelledAt"]) == clock.now()
    assert state["outstandingAmount"]["amount"] == 0

    # No charge, no invoice, no receipt.
    after = await billing(gql, key, customer_id)
    assert after["invoices"] == billed["invoices"]
    assert after["payments"] == billed["payments"]
    await deliver_mail(portal.settings)
    assert not [m for m in smtp.to("ada@example.com") if "eceipt" in str(m["Subject"])]

    # Ended for good.
    clock.advance(timedelta(days=40))
    assert await run_cycle(gql, key) == NOTHING
    assert (await subscription(gql, key, sub_id))["status"] == "CANCELLED"


async def test_billing_cycle_of_another_business_leaves_this_one_alone(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id, sub_id = await subscribed(portal, key)
    await move_billing_date(gql, key, sub_id, clock.now() - timedelta(minutes=1))
    before = await subscription(gql, key, sub_id)
    billed = await billing(gql, key, customer_id)

    assert await run_cycle(gql, globex.test_api_key) == NOTHING
    assert await subscription(gql, key, sub_id) == before
    assert await billing(gql, key, customer_id) == billed

    # It was due all along: acme's own cycle renews it.
    assert await run_cycle(gql, key) == {**NOTHING, "renewedCount": 1}


async def test_live_cycle_leaves_test_data_alone(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id, sub_id = await subscribed(portal, key)
    await move_billing_date(gql, key, sub_id, clock.now() - timedelta(minutes=1))
    before = await subscription(gql, key, sub_id)
    billed = await billing(gql, key, customer_id)

    assert await run_cycle(gql, acme.live_api_key) == NOTHING
    assert await subscription(gql, key, sub_id) == before
    assert await billing(gql, key, customer_id) == billed
    assert await run_cycle(gql, key) == {**NOTHING, "renewedCount": 1}


async def test_test_cycle_leaves_live_data_alone(portal: Portal, acme: NewBusiness) -> None:
    gql, live = portal.gql, acme.live_api_key
    clock.freeze()
    customer_id = await create_customer(gql, live, "lena@example.com", "Lena")
    product_id = await create_product(gql, live, amount=1500)
    # Live subscriptions need a payment processor, which this install does not have: the row is
    # written the way a processor-backed install would have left it, due a minute ago.
    method = await PaymentMethod.create(
        business_id=acme.business.id,
        mode=Mode.LIVE,
        customer_id=customer_id,
        gateway_token="tok_live_from_processor",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2034,
    )
    live_sub = await Subscription.create(
        business_id=acme.business.id,
        mode=Mode.LIVE,
        customer_id=customer_id,
        product_id=product_id,
        payment_method=method,
        status=SubscriptionStatus.ACTIVE,
        price_amount=1500,
        currency="EUR",
        interval=TimeInterval.MONTH,
        interval_count=1,
        current_period_start=clock.now() - timedelta(days=31),
        next_billing_date=clock.now() - timedelta(minutes=1),
    )
    before = await subscription(gql, live, live_sub.id)
    assert before["status"] == "ACTIVE"
    assert at(before["nextBillingDate"]) < clock.now()  # due, as the live key sees it
    billed = await billing(gql, live, customer_id)

    assert await run_cycle(gql, acme.test_api_key) == NOTHING
    assert await subscription(gql, live, live_sub.id) == before
    assert await billing(gql, live, customer_id) == billed


async def test_on_hold_email_link_signs_the_customer_in_once(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    clock.freeze()
    customer_id, sub_id = await subscribed(portal, key)
    session = await session_for(gql, key, customer_id)
    swapped = await gql(
        UPDATE_PAYMENT_METHOD,
        {"input": {"subscriptionId": sub_id, "card": card("4000000000000341")}},
        token=session,
    )
    assert swapped["updatePaymentMethod"]["userErrors"] == []
    await move_billing_date(gql, key, sub_id, clock.now() - timedelta(minutes=1))
    await deliver_mail(portal.settings)
    smtp.messages.clear()

    assert await run_cycle(gql, key) == {**NOTHING, "failedCount": 1}
    assert (await subscription(gql, key, sub_id))["status"] == "ON_HOLD"
    assert await deliver_mail(portal.settings) == 1
    [on_hold] = smtp.to("ada@example.com")
    assert "Pro plan" in str(on_hold["Subject"])
    assert "15.00" in text_body(on_hold)
    link = link_in(on_hold)
    assert link.startswith(f"{portal.settings.public_url}/test/session/")

    clock.advance(timedelta(hours=2))
    signed = (await gql(SIGN_IN, {"input": {"token": token_of(link)}}))["signIn"]
    assert signed["userErrors"] == []
    assert signed["customer"]["id"] == customer_id
    me = await gql(
        "{ me { id subscriptions { edges { node { id status outstandingAmount { amount } } } } } }",
        token=signed["sessionToken"],
    )
    assert me["me"]["id"] == customer_id
    assert me["me"]["subscriptions"]["edges"][0]["node"] == {
        "id": sub_id,
        "status": "ON_HOLD",
        "outstandingAmount": {"amount": 1500},
    }

    again = (await gql(SIGN_IN, {"input": {"token": token_of(link)}}))["signIn"]
    assert [e["code"] for e in again["userErrors"]] == ["LINK_EXPIRED"]
    assert again["sessionToken"] is None
    assert again["customer"] is None


async def test_billing_run_command_renews_a_due_subscription(
    portal: Portal, acme: NewBusiness, database_url: str, tmp_path: Path
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id, sub_id = await subscribed(portal, key)
    await move_billing_date(
        gql, key, sub_id, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    )

    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url.split("?", 1)[0],
        "PORTAL_VAR_DIR": str(tmp_path / "cli-var"),
        "PORTAL_ENV": "development",
    }
    env.pop("PORTAL_SMTP_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "billing",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "renewed 1, failed 0, ended 0" in stdout.decode()

    state = await subscription(gql, key, sub_id)
    assert state["status"] == "ACTIVE"
    assert at(state["nextBillingDate"]) > datetime.now(UTC) + timedelta(days=27)
    after = await billing(gql, key, customer_id)
    assert after["invoices"]["totalCount"] == 2
    assert after["invoices"]["edges"][0]["node"]["status"] == "PAID"
    assert [e["node"]["status"] for e in after["payments"]["edges"]] == ["SUCCEEDED", "SUCCEEDED"]
