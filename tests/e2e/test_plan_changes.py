"""Plan changes through the API: plan families, previews exact to the cent (and the yen),
upgrades charged now, downgrades at the period end (applied by the renewal run, or taken
back), a failed charge that changes nothing, and concurrent changes and cancellations.

Every amount below is computed by hand in the comment beside it, by the rule in the README
("Plan changes"): prorated = round_half_up(price * remaining seconds / period seconds), then
VAT at 19 % (a German seller, a German consumer, net prices) on the invoice's net total."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import Portal
from models import Payment, WebhookEvent
from models.clock import clock
from services.businesses import NewBusiness, create_business
from support import (
    GraphQLClient,
    card,
    code_of,
    create_customer,
    create_product,
    deliver_mail,
    session_for,
    subscribe,
    text_body,
)

UPDATE_LEGAL = """
mutation($i: UpdateLegalDetailsInput!) {
  updateLegalDetails(input: $i) { userErrors { code field message } }
}"""
SELLER = {
    "legalName": "Beispiel Software GmbH",
    "address": {"line1": "Hauptstraße 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
    "vatId": "DE136695976",
    "taxNumber": "30/123/45678",
    "phone": "+49 30 1234567",
}
CREATE_FAMILY = """
mutation($i: CreatePlanFamilyInput!) {
  createPlanFamily(input: $i) {
    planFamily { id name products { id name } }
    userErrors { code field message }
  }
}"""
UPDATE_FAMILY = """
mutation($i: UpdatePlanFamilyInput!) {
  updatePlanFamily(input: $i) {
    planFamily { id name products { id } }
    userErrors { code field message }
  }
}"""
OPTIONS = "query($s: ID!) { planOptions(subscriptionId: $s) { id name } }"
PREVIEW = """
query($s: ID!, $p: ID!) {
  previewPlanChange(subscriptionId: $s, productId: $p) {
    kind effectiveAt nextBillingDate product { id }
    prorationCredit { amount currency } prorationCharge { amount }
    taxDueNow { amount } amountDueNow { amount currency formatted }
    nextRenewalAmount { amount }
  }
}"""
CHANGE = """
mutation($i: ChangePlanInput!) {
  changePlan(input: $i) {
    subscription { id status product { id } price { amount } interval
                   currentPeriodStart nextBillingDate outstandingAmount { amount } }
    planChange { id kind status effectiveAt prorationCredit { amount }
                 prorationCharge { amount } toProduct { id } fromProduct { id } }
    payment { id status amount { amount currency } failureCode }
    invoice { id status total { amount } tax { amount } subtotal { amount } xmlUrl pdfUrl
              lines { description quantity unitAmount { amount } amount { amount } } }
    userErrors { code field message }
  }
}"""
CANCEL_CHANGE = """
mutation($i: CancelPlanChangeInput!) {
  cancelPlanChange(input: $i) {
    subscription { id product { id } }
    planChange { id status }
    userErrors { code field message }
  }
}"""
SCHEDULED = """
query($s: ID!) {
  scheduledPlanChange(subscriptionId: $s) { id kind status effectiveAt toProduct { id } }
}"""
SUBSCRIPTION = """
query($s: ID!) {
  subscription(id: $s) {
    id status product { id } price { amount } interval currentPeriodStart nextBillingDate
    cancelAtNextBillingDate outstandingAmount { amount }
  }
}"""
CANCEL = """
mutation($i: CancelSubscriptionInput!) {
  cancelSubscription(input: $i) { subscription { id status } userErrors { code } }
}"""
RUN_BILLING = "mutation { runBillingCycle { renewedCount failedCount endedCount } }"
UPDATE_CARD = """
mutation($i: UpdatePaymentMethodInput!) {
  updatePaymentMethod(input: $i) { subscription { id } userErrors { code } }
}"""
INVOICES = """
query($c: ID!) {
  customer(id: $c) {
    invoices(first: 20) { edges { node { id status total { amount }
      lines { description quantity unitAmount { amount } } } } }
    payments(first: 20) { edges { node { id status amount { amount } } } }
  }
}"""

# 2027-01-01: January has 31 days (2,678,400 s), 2027 has 365 days (31,536,000 s).
T0 = datetime(2027, 1, 1, tzinfo=UTC)
WHEN = {
    "start": T0,  # nothing used yet: 31 of 31 days left
    "middle": T0 + timedelta(days=10),  # 21 of 31 days (or 355 of 365) left
    "last day": datetime(2027, 1, 31, tzinfo=UTC),  # 1 of 31 days left
    "year's last day": datetime(2027, 12, 31, tzinfo=UTC),  # 1 of 365 days left
}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class Shop:
    business: NewBusiness
    key: str
    customer_id: str
    products: dict[str, str]  # name -> id
    family_id: str


# The plans, per currency: (name, price, interval).
PLANS = {
    "EUR": [
        ("Basic", 1000, "MONTH"),
        ("Pro", 2500, "MONTH"),
        ("Max", 4000, "MONTH"),
        ("Basic yearly", 10000, "YEAR"),
        ("Pro yearly", 25000, "YEAR"),
    ],
    "JPY": [
        ("Basic", 1000, "MONTH"),
        ("Pro", 3000, "MONTH"),
        ("Max", 5000, "MONTH"),
        ("Basic yearly", 10000, "YEAR"),
        ("Pro yearly", 30000, "YEAR"),
    ],
}


async def _shop(gql: GraphQLClient, currency: str = "EUR", locale: str = "en") -> Shop:
    business = await create_business("Beispiel", "billing@seller.example", locale)
    key = business.test_api_key
    result = await gql(UPDATE_LEGAL, {"i": SELLER}, token=key)
    assert result["updateLegalDetails"]["userErrors"] == []
    customer_id = await create_customer(gql, key, "max@example.com", "Max Muster")
    products = {
        name: await create_product(
            gql, key, amount=price, interval=interval, currency=currency, name=name
        )
        for name, price, interval in PLANS[currency]
    }
    made = await gql(
        CREATE_FAMILY, {"i": {"name": "Plans", "productIds": list(products.values())}}, token=key
    )
    payload = made["createPlanFamily"]
    assert payload["userErrors"] == [], payload
    assert [p["name"] for p in payload["planFamily"]["products"]] == list(products)
    allowed = await gql(
        "mutation { updatePortalSettings(input: {customersMayChangePlan: true})"
        " { userErrors { code } } }",
        token=key,
    )
    assert allowed["updatePortalSettings"]["userErrors"] == []
    return Shop(business, key, customer_id, products, payload["planFamily"]["id"])


async def _subscribe(
    gql: GraphQLClient, shop: Shop, plan: str, number: str = "4242424242424242"
) -> str:
    clock.freeze(T0)
    made = await subscribe(gql, shop.key, shop.customer_id, shop.products[plan], number)
    assert made["userErrors"] == [], made
    return str(made["subscription"]["id"])


@dataclass(frozen=True)
class Case:
    id: str
    currency: str
    old: str
    new: str
    when: str
    kind: str
    credit: int
    charge: int
    tax: int
    due: int
    next_billing: datetime
    renewal: int  # the next renewal, VAT included


FEB = datetime(2027, 2, 1, tzinfo=UTC)
NEXT_YEAR = datetime(2028, 1, 1, tzinfo=UTC)

CASES = [
    # Monthly upgrade, EUR 10.00 -> 25.00, period 31 days.
    # start: credit 10.00, charge 25.00; net 15.00, VAT 15.00 * 0.19 = 2.85; due 17.85.
    Case(
        "EUR monthly up, start",
        "EUR",
        "Basic",
        "Pro",
        "start",
        "UPGRADE",
        1000,
        2500,
        285,
        1785,
        FEB,
        2975,
    ),
    # middle: credit 1000 * 21/31 = 677.42 -> 677; charge 2500 * 21/31 = 1693.55 -> 1694;
    # net 1017, VAT 193.23 -> 193; due 1210. Renewal 25.00 + 4.75 = 29.75.
    Case(
        "EUR monthly up, middle",
        "EUR",
        "Basic",
        "Pro",
        "middle",
        "UPGRADE",
        677,
        1694,
        193,
        1210,
        FEB,
        2975,
    ),
    # last day: credit 1000/31 = 32.26 -> 32; charge 2500/31 = 80.65 -> 81; net 49,
    # VAT 9.31 -> 9; due 58.
    Case(
        "EUR monthly up, last day",
        "EUR",
        "Basic",
        "Pro",
        "last day",
        "UPGRADE",
        32,
        81,
        9,
        58,
        FEB,
        2975,
    ),
    # JPY (no minor unit), 1000 -> 3000 yen.
    # start: net 2000, VAT 380; due 2380. Renewal 3000 + 570 = 3570.
    Case(
        "JPY monthly up, start",
        "JPY",
        "Basic",
        "Pro",
        "start",
        "UPGRADE",
        1000,
        3000,
        380,
        2380,
        FEB,
        3570,
    ),
    # middle: credit 1000 * 21/31 = 677.42 -> 677; charge 3000 * 21/31 = 2032.26 -> 2032;
    # net 1355, VAT 257.45 -> 257; due 1612.
    Case(
        "JPY monthly up, middle",
        "JPY",
        "Basic",
        "Pro",
        "middle",
        "UPGRADE",
        677,
        2032,
        257,
        1612,
        FEB,
        3570,
    ),
    # last day: credit 1000/31 = 32.26 -> 32; charge 3000/31 = 96.77 -> 97; net 65,
    # VAT 12.35 -> 12; due 77.
    Case(
        "JPY monthly up, last day",
        "JPY",
        "Basic",
        "Pro",
        "last day",
        "UPGRADE",
        32,
        97,
        12,
        77,
        FEB,
        3570,
    ),
    # Yearly upgrade, EUR 100.00 -> 250.00, period 365 days.
    # start: net 150.00, VAT 28.50; due 178.50. Renewal 250.00 + 47.50 = 297.50.
    Case(
        "EUR yearly up, start",
        "EUR",
        "Basic yearly",
        "Pro yearly",
        "start",
        "UPGRADE",
        10000,
        25000,
        2850,
        17850,
        NEXT_YEAR,
        29750,
    ),
    # middle (10 days used, 355 left): credit 10000 * 355/365 = 9726.03 -> 9726;
    # charge 25000 * 355/365 = 24315.07 -> 24315; net 14589, VAT 2771.91 -> 2772; due 17361.
    Case(
        "EUR yearly up, middle",
        "EUR",
        "Basic yearly",
        "Pro yearly",
        "middle",
        "UPGRADE",
        9726,
        24315,
        2772,
        17361,
        NEXT_YEAR,
        29750,
    ),
    # last day of January (30 days used, 335 left): credit 10000 * 335/365 = 9178.08 -> 9178;
    # charge 25000 * 335/365 = 22945.21 -> 22945; net 13767, VAT 2615.73 -> 2616; due 16383.
    Case(
        "EUR yearly up, day 31",
        "EUR",
        "Basic yearly",
        "Pro yearly",
        "last day",
        "UPGRADE",
        9178,
        22945,
        2616,
        16383,
        NEXT_YEAR,
        29750,
    ),
    # The year's last day (1 of 365 days left): credit 10000/365 = 27.40 -> 27;
    # charge 25000/365 = 68.49 -> 68; net 41, VAT 7.79 -> 8; due 49.
    Case(
        "EUR yearly up, last day",
        "EUR",
        "Basic yearly",
        "Pro yearly",
        "year's last day",
        "UPGRADE",
        27,
        68,
        8,
        49,
        NEXT_YEAR,
        29750,
    ),
    # JPY yearly, 10000 -> 30000 yen, start: net 20000, VAT 3800; due 23800.
    Case(
        "JPY yearly up, start",
        "JPY",
        "Basic yearly",
        "Pro yearly",
        "start",
        "UPGRADE",
        10000,
        30000,
        3800,
        23800,
        NEXT_YEAR,
        35700,
    ),
    # JPY yearly, the year's last day: credit 10000/365 = 27.40 -> 27; charge 30000/365 =
    # 82.19 -> 82; net 55, VAT 10.45 -> 10; due 65.
    Case(
        "JPY yearly up, last day",
        "JPY",
        "Basic yearly",
        "Pro yearly",
        "year's last day",
        "UPGRADE",
        27,
        82,
        10,
        65,
        NEXT_YEAR,
        35700,
    ),
    # JPY yearly down, the year's last day: nothing now; 10000 + 1900 yen from 2028-01-01.
    Case(
        "JPY yearly down, last day",
        "JPY",
        "Pro yearly",
        "Basic yearly",
        "year's last day",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        NEXT_YEAR,
        11900,
    ),
    # JPY yearly, 10000 -> 30000 yen, middle: credit 10000 * 355/365 = 9726.03 -> 9726;
    # charge 30000 * 355/365 = 29178.08 -> 29178; net 19452, VAT 3695.88 -> 3696; due 23148.
    # Renewal 30000 + 5700 = 35700.
    Case(
        "JPY yearly up, middle",
        "JPY",
        "Basic yearly",
        "Pro yearly",
        "middle",
        "UPGRADE",
        9726,
        29178,
        3696,
        23148,
        NEXT_YEAR,
        35700,
    ),
    # Monthly -> yearly: a new year starts now; charge the whole 250.00, credit the unused month.
    # start: credit 10.00; net 240.00, VAT 45.60; due 285.60; renews 2028-01-01.
    Case(
        "EUR monthly to yearly, start",
        "EUR",
        "Basic",
        "Pro yearly",
        "start",
        "UPGRADE",
        1000,
        25000,
        4560,
        28560,
        NEXT_YEAR,
        29750,
    ),
    # middle: credit 677; net 24323, VAT 4621.37 -> 4621; due 28944; renews 2028-01-11.
    Case(
        "EUR monthly to yearly, middle",
        "EUR",
        "Basic",
        "Pro yearly",
        "middle",
        "UPGRADE",
        677,
        25000,
        4621,
        28944,
        datetime(2028, 1, 11, tzinfo=UTC),
        29750,
    ),
    # last day: credit 32; net 24968, VAT 4743.92 -> 4744; due 29712; renews 2028-01-31.
    Case(
        "EUR monthly to yearly, last day",
        "EUR",
        "Basic",
        "Pro yearly",
        "last day",
        "UPGRADE",
        32,
        25000,
        4744,
        29712,
        datetime(2028, 1, 31, tzinfo=UTC),
        29750,
    ),
    # JPY monthly -> yearly, middle: credit 677; net 30000 - 677 = 29323, VAT 5571.37 -> 5571;
    # due 34894; renews 2028-01-11; renewal 35700.
    Case(
        "JPY monthly to yearly, middle",
        "JPY",
        "Basic",
        "Pro yearly",
        "middle",
        "UPGRADE",
        677,
        30000,
        5571,
        34894,
        datetime(2028, 1, 11, tzinfo=UTC),
        35700,
    ),
    # Downgrades: nothing now, the new price from the period end on (VAT included).
    # EUR 25.00 -> 10.00 monthly: renews 2027-02-01 at 10.00 + 1.90 = 11.90.
    Case(
        "EUR monthly down, start",
        "EUR",
        "Pro",
        "Basic",
        "start",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        FEB,
        1190,
    ),
    Case(
        "EUR monthly down, middle",
        "EUR",
        "Pro",
        "Basic",
        "middle",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        FEB,
        1190,
    ),
    Case(
        "EUR monthly down, last day",
        "EUR",
        "Pro",
        "Basic",
        "last day",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        FEB,
        1190,
    ),
    # JPY 3000 -> 1000 monthly: renews at 1000 + 190 = 1190 yen.
    Case(
        "JPY monthly down, middle",
        "JPY",
        "Pro",
        "Basic",
        "middle",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        FEB,
        1190,
    ),
    # Yearly down, EUR 250.00 -> 100.00: at the year's end, 100.00 + 19.00 = 119.00.
    Case(
        "EUR yearly down, middle",
        "EUR",
        "Pro yearly",
        "Basic yearly",
        "middle",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        NEXT_YEAR,
        11900,
    ),
    # Yearly -> monthly (a shorter period) is always at the period end: 10.00 + 1.90.
    Case(
        "EUR yearly to monthly, last day",
        "EUR",
        "Pro yearly",
        "Basic",
        "last day",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        NEXT_YEAR,
        1190,
    ),
    # JPY yearly -> monthly, middle: 1000 + 190 yen from 2028-01-01.
    Case(
        "JPY yearly to monthly, middle",
        "JPY",
        "Pro yearly",
        "Basic",
        "middle",
        "DOWNGRADE",
        0,
        0,
        0,
        0,
        NEXT_YEAR,
        1190,
    ),
]


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
async def test_preview_and_change_exact_to_the_minor_unit(portal: Portal, currency: str) -> None:
    """Every case of its currency, each on a subscription of its own (one shop: fast)."""
    shop = await _shop(portal.gql, currency)
    cases = [case for case in CASES if case.currency == currency]
    assert len(cases) >= 7
    for case in cases:
        try:
            await _check_case(portal.gql, shop, case)
        except AssertionError as failed:
            raise AssertionError(f"{case.id}: {failed}") from failed


async def _check_case(gql: GraphQLClient, shop: Shop, case: Case) -> None:
    sub_id = await _subscribe(gql, shop, case.old)
    clock.freeze(WHEN[case.when])
    session = await session_for(gql, shop.key, shop.customer_id)
    new_id = shop.products[case.new]

    preview = (await gql(PREVIEW, {"s": sub_id, "p": new_id}, token=session))["previewPlanChange"]
    assert preview["kind"] == case.kind
    assert preview["prorationCredit"] == {"amount": case.credit, "currency": case.currency}
    assert preview["prorationCharge"]["amount"] == case.charge
    assert preview["taxDueNow"]["amount"] == case.tax
    assert preview["amountDueNow"]["amount"] == case.due
    assert at(preview["nextBillingDate"]) == case.next_billing
    assert preview["nextRenewalAmount"]["amount"] == case.renewal
    # The merchant's key sees the same.
    merchant = (await gql(PREVIEW, {"s": sub_id, "p": new_id}, token=shop.key))["previewPlanChange"]
    assert merchant == preview

    changed = (
        await gql(
            CHANGE,
            {"i": {"subscriptionId": sub_id, "productId": new_id, "idempotencyKey": case.id}},
            token=session,
        )
    )["changePlan"]
    assert changed["userErrors"] == [], changed
    sub = changed["subscription"]
    change = changed["planChange"]
    assert change["kind"] == case.kind
    if case.kind == "UPGRADE":
        assert change["status"] == "APPLIED"
        assert sub["product"]["id"] == new_id
        assert at(sub["nextBillingDate"]) == case.next_billing
        assert changed["payment"]["status"] == "SUCCEEDED"
        assert changed["payment"]["amount"] == {"amount": case.due, "currency": case.currency}
        invoice = changed["invoice"]
        assert (invoice["status"], invoice["total"]["amount"]) == ("PAID", case.due)
        assert invoice["tax"]["amount"] == case.tax
        assert invoice["subtotal"]["amount"] == case.charge - case.credit
        credit_line, charge_line = invoice["lines"]
        assert credit_line["quantity"] == -1
        assert credit_line["unitAmount"]["amount"] == case.credit
        assert credit_line["amount"]["amount"] == -case.credit
        assert case.old in credit_line["description"]
        assert charge_line["unitAmount"]["amount"] == case.charge
        assert case.new in charge_line["description"]
        assert sub["outstandingAmount"]["amount"] == 0
    else:
        assert change["status"] == "SCHEDULED"
        assert at(change["effectiveAt"]) == case.next_billing
        assert sub["product"]["id"] == shop.products[case.old]  # until the period end
        assert changed["payment"] is None and changed["invoice"] is None
        scheduled = (await gql(SCHEDULED, {"s": sub_id}, token=shop.key))["scheduledPlanChange"]
        assert scheduled["id"] == change["id"]

    # The same key again answers the same change and charges nothing more.
    again = (
        await gql(
            CHANGE,
            {"i": {"subscriptionId": sub_id, "productId": new_id, "idempotencyKey": case.id}},
            token=session,
        )
    )["changePlan"]
    assert again["planChange"]["id"] == change["id"]
    assert (again["payment"] or {}).get("id") == (changed["payment"] or {}).get("id")


async def test_upgrade_invoice_passes_en_16931(
    portal: Portal, cen_rules: Callable[[bytes], list[str]]
) -> None:
    gql = portal.gql
    shop = await _shop(gql)
    sub_id = await _subscribe(gql, shop, "Basic")
    clock.freeze(WHEN["middle"])
    changed = (
        await gql(
            CHANGE,
            {"i": {"subscriptionId": sub_id, "productId": shop.products["Pro"]}},
            token=shop.key,
        )
    )["changePlan"]
    assert changed["userErrors"] == []
    invoice = changed["invoice"]
    xml = await portal.http.get(invoice["xmlUrl"])
    assert xml.status_code == 200, xml.text
    assert cen_rules(xml.content) == []
    pdf = await portal.http.get(invoice["pdfUrl"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_a_failed_upgrade_charge_changes_nothing(portal: Portal) -> None:
    gql = portal.gql
    shop = await _shop(gql)
    sub_id = await _subscribe(gql, shop, "Basic")
    clock.freeze(WHEN["middle"])
    session = await session_for(gql, shop.key, shop.customer_id)
    # A card that saves fine and declines every charge becomes the subscription's card.
    swapped = await gql(
        UPDATE_CARD,
        {"i": {"subscriptionId": sub_id, "card": card("4000000000000341")}},
        token=session,
    )
    assert swapped["updatePaymentMethod"]["userErrors"] == []
    before = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]

    failed = (
        await gql(
            CHANGE,
            {"i": {"subscriptionId": sub_id, "productId": shop.products["Pro"]}},
            token=session,
        )
    )["changePlan"]
    assert [e["code"] for e in failed["userErrors"]] == ["CARD_DECLINED"]
    assert failed["planChange"]["status"] == "FAILED"
    assert failed["payment"]["status"] == "FAILED"
    assert failed["payment"]["amount"]["amount"] == 1210  # as previewed (see CASES, middle)
    assert failed["invoice"]["status"] == "VOID"
    after = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]
    assert after == before  # same plan, price, period and nothing owed
    assert (await gql(SCHEDULED, {"s": sub_id}, token=shop.key))["scheduledPlanChange"] is None
    # Nothing stays claimed: a preview works, and a downgrade can be scheduled.
    preview = await gql(PREVIEW, {"s": sub_id, "p": shop.products["Max"]}, token=session)
    assert preview["previewPlanChange"]["amountDueNow"]["amount"] > 0
    events = await WebhookEvent.filter(business_id=shop.business.business.id).values_list(
        "type", flat=True
    )
    assert "subscription.plan_change_failed" in events
    assert "subscription.plan_changed" not in events


async def test_scheduled_downgrade_is_applied_by_the_renewal_run(
    portal: Portal,
) -> None:
    gql = portal.gql
    shop = await _shop(gql, locale="de")
    sub_id = await _subscribe(gql, shop, "Pro")
    clock.freeze(WHEN["middle"])
    session = await session_for(gql, shop.key, shop.customer_id)
    changed = (
        await gql(
            CHANGE,
            {"i": {"subscriptionId": sub_id, "productId": shop.products["Basic"]}},
            token=session,
        )
    )["changePlan"]
    assert changed["planChange"]["status"] == "SCHEDULED"
    # The customer is told, in the business's language.
    await deliver_mail(portal.settings)
    [mail] = [m for m in portal_mail(portal) if "Basic" in str(m["Subject"])]
    assert "01.02.2027" in text_body(mail) and "Pro" in text_body(mail)

    # The renewal run before the period end changes nothing.
    assert (await gql(RUN_BILLING, token=shop.key))["runBillingCycle"]["renewedCount"] == 0
    clock.freeze(FEB + timedelta(minutes=1))
    run = (await gql(RUN_BILLING, token=shop.key))["runBillingCycle"]
    assert (run["renewedCount"], run["failedCount"]) == (1, 0)
    sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]
    assert sub["product"]["id"] == shop.products["Basic"]
    assert sub["price"]["amount"] == 1000
    assert at(sub["nextBillingDate"]) == datetime(2027, 3, 1, tzinfo=UTC)
    assert (await gql(SCHEDULED, {"s": sub_id}, token=shop.key))["scheduledPlanChange"] is None
    # The renewal's invoice is the new plan's: 10.00 + 19 % = 11.90.
    invoices = (await gql(INVOICES, {"c": shop.customer_id}, token=shop.key))["customer"]
    newest = invoices["invoices"]["edges"][0]["node"]
    assert newest["total"]["amount"] == 1190
    assert newest["lines"][0]["description"] == "Basic"
    events = await WebhookEvent.filter(business_id=shop.business.business.id).values_list(
        "type", flat=True
    )
    assert "subscription.plan_change_scheduled" in events
    assert "subscription.plan_changed" in events
    # A merchant's endpoint can ask for exactly these.
    types = [
        "subscription.plan_changed",
        "subscription.plan_change_scheduled",
        "subscription.plan_change_cancelled",
        "subscription.plan_change_failed",
    ]
    made = await gql(
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) "
        "{ webhookEndpoint { eventTypes } userErrors { code } } }",
        {"i": {"url": "https://hooks.example.com/plans", "eventTypes": types}},
        token=shop.key,
    )
    assert made["createWebhookEndpoint"] == {
        "webhookEndpoint": {"eventTypes": types},
        "userErrors": [],
    }


def portal_mail(portal: Portal) -> list[Any]:
    smtp = portal.settings.smtp_url
    assert smtp
    return list(_CATCHERS[smtp].messages)


_CATCHERS: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _remember_smtp(smtp: Any) -> None:
    _CATCHERS[smtp.url] = smtp


async def test_a_scheduled_downgrade_can_be_taken_back(portal: Portal) -> None:
    gql = portal.gql
    shop = await _shop(gql)
    sub_id = await _subscribe(gql, shop, "Pro")
    clock.freeze(WHEN["middle"])
    session = await session_for(gql, shop.key, shop.customer_id)
    basic = shop.products["Basic"]
    await gql(CHANGE, {"i": {"subscriptionId": sub_id, "productId": basic}}, token=session)
    # While one is scheduled, another change is refused: cancel it first.
    refused = (
        await gql(
            CHANGE,
            {"i": {"subscriptionId": sub_id, "productId": shop.products["Max"]}},
            token=session,
        )
    )["changePlan"]
    assert [e["code"] for e in refused["userErrors"]] == ["PLAN_CHANGE_SCHEDULED"]
    taken_back = (await gql(CANCEL_CHANGE, {"i": {"subscriptionId": sub_id}}, token=session))[
        "cancelPlanChange"
    ]
    assert taken_back["userErrors"] == []
    assert taken_back["planChange"]["status"] == "CANCELLED"
    again = (await gql(CANCEL_CHANGE, {"i": {"subscriptionId": sub_id}}, token=session))[
        "cancelPlanChange"
    ]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]
    clock.freeze(FEB + timedelta(minutes=1))
    run = (await gql(RUN_BILLING, token=shop.key))["runBillingCycle"]
    assert run["renewedCount"] == 1
    sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]
    assert (sub["product"]["id"], sub["price"]["amount"]) == (shop.products["Pro"], 2500)


async def test_customers_change_plans_only_when_the_business_allows_it(portal: Portal) -> None:
    """customersMayChangePlan off: the customer is offered no plans and refused a preview and
    a change (NOT_ALLOWED_BY_BUSINESS, nothing charged); the merchant still may; a change the
    customer scheduled earlier can still be taken back."""
    gql = portal.gql
    shop = await _shop(gql)
    sub_id = await _subscribe(gql, shop, "Pro")
    clock.freeze(WHEN["middle"])
    session = await session_for(gql, shop.key, shop.customer_id)
    basic, maximum = shop.products["Basic"], shop.products["Max"]
    scheduled = await gql(
        CHANGE, {"i": {"subscriptionId": sub_id, "productId": basic}}, token=session
    )
    assert scheduled["changePlan"]["userErrors"] == []
    switched_off = await gql(
        "mutation { updatePortalSettings(input: {customersMayChangePlan: false})"
        " { userErrors { code } } }",
        token=shop.key,
    )
    assert switched_off["updatePortalSettings"]["userErrors"] == []

    assert (await gql(OPTIONS, {"s": sub_id}, token=session))["planOptions"] == []
    assert len((await gql(OPTIONS, {"s": sub_id}, token=shop.key))["planOptions"]) > 0
    preview = await gql.raw(PREVIEW, {"s": sub_id, "p": maximum}, token=session)
    assert preview.json()["errors"][0]["extensions"]["code"] == "NOT_ALLOWED_BY_BUSINESS"
    taken_back = await gql(CANCEL_CHANGE, {"i": {"subscriptionId": sub_id}}, token=session)
    assert taken_back["cancelPlanChange"]["userErrors"] == []
    payments_before = await Payment.filter(subscription_id=sub_id).count()
    refused = (
        await gql(CHANGE, {"i": {"subscriptionId": sub_id, "productId": maximum}}, token=session)
    )["changePlan"]
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_ALLOWED_BY_BUSINESS"]
    assert refused["planChange"] is None
    sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]
    assert sub["product"]["id"] == shop.products["Pro"]
    assert await Payment.filter(subscription_id=sub_id).count() == payments_before

    merchant = (
        await gql(CHANGE, {"i": {"subscriptionId": sub_id, "productId": maximum}}, token=shop.key)
    )["changePlan"]
    assert merchant["userErrors"] == []
    assert merchant["subscription"]["product"]["id"] == maximum


async def test_plan_families_and_bad_input(portal: Portal) -> None:
    gql = portal.gql
    shop = await _shop(gql)
    key = shop.key
    other = await create_product(gql, key, amount=900, currency="USD", name="Dollar plan")
    once = await create_product(gql, key, amount=900, interval=None, name="Once")
    basic, pro = shop.products["Basic"], shop.products["Pro"]
    for ids, code in [
        ([basic], "INVALID_PRODUCTS"),
        ([basic, pro], "PRODUCT_IN_OTHER_FAMILY"),
        ([other, once], "INVALID_PRODUCT"),
        ([other, "pdt_nope"], "NOT_FOUND"),
    ]:
        made = (await gql(CREATE_FAMILY, {"i": {"name": "X", "productIds": ids}}, token=key))[
            "createPlanFamily"
        ]
        assert [e["code"] for e in made["userErrors"]] == [code], (ids, made)
    mixed = (
        await gql(
            UPDATE_FAMILY,
            {"i": {"planFamilyId": shop.family_id, "productIds": [basic, pro, other]}},
            token=key,
        )
    )["updatePlanFamily"]
    assert [e["code"] for e in mixed["userErrors"]] == ["CURRENCY_MISMATCH"]

    sub_id = await _subscribe(gql, shop, "Basic")
    session = await session_for(gql, key, shop.customer_id)
    options = (await gql(OPTIONS, {"s": sub_id}, token=session))["planOptions"]
    assert [o["name"] for o in options] == ["Pro", "Max", "Basic yearly", "Pro yearly"]
    # The family shrinks: Max leaves it, and can no longer be switched to.
    shrunk = (
        await gql(
            UPDATE_FAMILY,
            {"i": {"planFamilyId": shop.family_id, "name": "Two", "productIds": [basic, pro]}},
            token=key,
        )
    )["updatePlanFamily"]
    assert shrunk["userErrors"] == [] and shrunk["planFamily"]["name"] == "Two"
    error = await gql.error(PREVIEW, {"s": sub_id, "p": shop.products["Max"]}, token=session)
    assert code_of(error) == "NOT_IN_PLAN_FAMILY"
    for product, code in [(basic, "SAME_PLAN"), ("pdt_nope", "NOT_FOUND")]:
        refused = (
            await gql(CHANGE, {"i": {"subscriptionId": sub_id, "productId": product}}, session)
        )["changePlan"]
        assert [e["code"] for e in refused["userErrors"]] == [code]
    # Another business's key and another customer's session see no such subscription.
    stranger = await create_business("Other", "x@other.example")
    error = await gql.error(PREVIEW, {"s": sub_id, "p": pro}, token=stranger.test_api_key)
    assert code_of(error) == "NOT_FOUND"
    other_customer = await create_customer(gql, key, "eve@example.com", "Eve")
    eve = await session_for(gql, key, other_customer)
    refused = (await gql(CHANGE, {"i": {"subscriptionId": sub_id, "productId": pro}}, eve))[
        "changePlan"
    ]
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    # Customers cannot make families.
    error = await gql.error(
        CREATE_FAMILY, {"i": {"name": "X", "productIds": [basic, pro]}}, token=session
    )
    assert code_of(error) == "UNAUTHENTICATED"
    sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=key))["subscription"]
    assert sub["product"]["id"] == basic


async def test_concurrent_changes_and_cancels_leave_one_consistent_outcome(
    portal: Portal,
) -> None:
    gql = portal.gql
    shop = await _shop(gql)
    key = shop.key
    for round_ in range(3):
        sub_id = await _subscribe(gql, shop, "Pro")
        clock.freeze(WHEN["middle"])
        session = await session_for(gql, key, shop.customer_id)

        def change(product: str, token: str, sub_id: str = sub_id) -> Any:
            return gql.raw(
                CHANGE,
                {"i": {"subscriptionId": sub_id, "productId": shop.products[product]}},
                token,
            )

        def cancel(at_period_end: bool, sub_id: str = sub_id, session: str = session) -> Any:
            return gql.raw(
                CANCEL,
                {"i": {"subscriptionId": sub_id, "atPeriodEnd": at_period_end}},
                session,
            )

        calls = [change("Max", session), change("Basic", key), cancel(False), change("Max", key)]
        if round_ == 1:
            calls.append(cancel(True))
        responses = await asyncio.gather(*calls)
        bodies = [r.json() for r in responses]
        assert all("errors" not in b for b in bodies), bodies  # only clean userErrors

        sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=key))["subscription"]
        scheduled = (await gql(SCHEDULED, {"s": sub_id}, token=key))["scheduledPlanChange"]
        changes = [
            b["data"]["changePlan"]["planChange"]
            for b in bodies
            if "changePlan" in b["data"] and b["data"]["changePlan"]["userErrors"] == []
        ]
        applied = [c for c in changes if c["status"] == "APPLIED"]
        kept = [c for c in changes if c["status"] == "SCHEDULED"]
        # At most one change won, and the subscription is what the winners say.
        assert len(applied) + len(kept) <= 1, changes
        if applied:
            assert sub["product"]["id"] == shop.products["Max"]
            assert sub["price"]["amount"] == 4000
        else:
            assert sub["product"]["id"] == shop.products["Pro"]
            assert sub["price"]["amount"] == 2500
        if sub["status"] == "CANCELLED":
            assert scheduled is None  # a cancelled subscription keeps no scheduled change
        if kept and sub["status"] == "ACTIVE":
            assert scheduled is not None and scheduled["id"] == kept[0]["id"]
        if sub["status"] == "ACTIVE" and not kept:
            assert scheduled is None
        assert sub["outstandingAmount"]["amount"] == 0
        # Every successful payment paid an invoice of an applied change (or the first period).
        customer = (await gql(INVOICES, {"c": shop.customer_id}, token=key))["customer"]
        payments = [e["node"] for e in customer["payments"]["edges"]]
        assert all(p["status"] in ("SUCCEEDED", "FAILED") for p in payments), payments
        clock.reset()
        # The next round's subscription starts afresh.
        if sub["status"] == "ACTIVE":
            await gql(CANCEL, {"i": {"subscriptionId": sub_id}}, session)
    succeeded = [p for p in payments if p["status"] == "SUCCEEDED"]
    # 3 first periods of Pro (29.75 each) and one upgrade Pro -> Max per applied change.
    assert len(succeeded) >= 3


async def _sign_in_page(portal: Portal, shop: Shop) -> None:
    """The customer's browser: the magic link's page, then its button (sets the cookie)."""
    from support import portal_link

    link = await portal_link(portal.gql, shop.key, shop.customer_id)
    path = link.split("://", 1)[1].split("/", 1)[1]
    landing = await portal.http.get("/" + path)
    signed = await portal.http.post("/" + path, data={"csrf": _csrf(landing.text)})
    assert signed.status_code == 303, signed.text


def _csrf(html: str) -> str:
    import re

    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_the_subscription_page_previews_and_changes_the_plan(portal: Portal) -> None:
    gql = portal.gql
    shop = await _shop(gql)
    sub_id = await _subscribe(gql, shop, "Basic")
    clock.freeze(WHEN["middle"])
    await _sign_in_page(portal, shop)
    base = f"/test/portal/subscriptions/{sub_id}"

    page = await portal.http.get(base)
    assert page.status_code == 200
    assert "Change plan" in page.text
    for name in ("Pro", "Max", "Basic yearly", "Pro yearly"):
        assert f'<label for="plan-{shop.products[name]}">{name}:' in page.text

    # The preview shows the amounts of CASES' "EUR monthly up, middle": credit 6.77, charge
    # 16.94, VAT 1.93, due 12.10; renewal 29.75 on 1 February 2027.
    preview = await portal.http.get(f"{base}/change-plan", params={"product": shop.products["Pro"]})
    assert preview.status_code == 200, preview.text
    for text in ("€6.77", "€16.94", "€1.93", "€12.10", "€29.75", "Feb 1, 2027"):
        assert text in preview.text, text
    # A product outside the family, or none at all, is refused with words, not an error page.
    other = await create_product(gql, shop.key, amount=100, name="Outsider")
    refused = await portal.http.get(f"{base}/change-plan", params={"product": other})
    assert refused.status_code == 409 and "You cannot change to this plan." in refused.text
    nothing = await portal.http.get(f"{base}/change-plan")
    assert nothing.status_code == 400 and "Please choose a plan." in nothing.text

    # Without the form's token nothing happens; with it, the plan changes once.
    form = {
        "product": shop.products["Pro"],
        "idempotency_key": "page-key-1",
        "csrf": _csrf(preview.text),
    }
    forged = await portal.http.post(f"{base}/change-plan", data={**form, "csrf": "forged"})
    assert forged.status_code == 403
    for _ in range(2):  # sent twice (a double click): one change, one charge
        done = await portal.http.post(f"{base}/change-plan", data=form)
        assert done.status_code == 303
        assert done.headers["location"] == f"{base}?done=plan_changed"
    sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]
    assert sub["product"]["id"] == shop.products["Pro"]
    payments = (await gql(INVOICES, {"c": shop.customer_id}, token=shop.key))["customer"][
        "payments"
    ]["edges"]
    assert [p["node"]["amount"]["amount"] for p in payments] == [1210, 1190]

    # Down again, at the period end, and taken back from the page.
    page = await portal.http.get(base)
    preview = await portal.http.get(
        f"{base}/change-plan", params={"product": shop.products["Basic"]}
    )
    assert "Change plan on Feb 1, 2027" in preview.text
    form = {"product": shop.products["Basic"], "idempotency_key": "k2", "csrf": _csrf(page.text)}
    done = await portal.http.post(f"{base}/change-plan", data=form)
    assert done.headers["location"] == f"{base}?done=plan_scheduled"
    page = await portal.http.get(done.headers["location"])
    assert "Your plan changes to Basic on Feb 1, 2027." in page.text
    kept = await portal.http.post(f"{base}/cancel-plan-change", data={"csrf": _csrf(page.text)})
    assert kept.headers["location"] == f"{base}?done=plan_kept"
    page = await portal.http.get(kept.headers["location"])
    assert "You keep your current plan." in page.text
    assert (await gql(SCHEDULED, {"s": sub_id}, token=shop.key))["scheduledPlanChange"] is None


async def test_an_upgrade_interrupted_after_the_charge_is_settled_once(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between the gateway call and step three (as tests/e2e/test_settlement.py makes
    one): the subscription stays claimed, and settlement finishes the upgrade once."""
    from models import Mode, Payment, PaymentStatus
    from services.billing.plan_changes import change_plan
    from services.billing.settlement import settle_stale_payments
    from services.payments.gateway import TestGateway
    from services.scope import Scope

    gql = portal.gql
    shop = await _shop(gql)
    sub_id = await _subscribe(gql, shop, "Basic")
    clock.freeze(WHEN["middle"])

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise asyncio.CancelledError  # the process is stopped mid-call

    monkeypatch.setattr(TestGateway, "charge", crash)
    with pytest.raises(asyncio.CancelledError):
        await change_plan(
            portal.settings,
            Scope(shop.business.business.id, Mode.TEST),
            "test-caller",
            subscription_id=sub_id,
            product_id=shop.products["Pro"],
            idempotency_key=None,
        )
    monkeypatch.undo()
    [stuck] = await Payment.filter(subscription_id=sub_id, status=PaymentStatus.PROCESSING)
    assert stuck.amount == 1210  # as in CASES, "EUR monthly up, middle"

    # Claimed meanwhile: no second change, no cancellation, the old plan still in place.
    again = (
        await gql(
            CHANGE,
            {"i": {"subscriptionId": sub_id, "productId": shop.products["Max"]}},
            token=shop.key,
        )
    )["changePlan"]
    assert [e["code"] for e in again["userErrors"]] == ["PAYMENT_IN_PROGRESS"]
    sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]
    assert sub["product"]["id"] == shop.products["Basic"]

    clock.advance(timedelta(minutes=11))
    assert await settle_stale_payments(portal.settings) == 1
    assert await settle_stale_payments(portal.settings) == 0
    sub = (await gql(SUBSCRIPTION, {"s": sub_id}, token=shop.key))["subscription"]
    assert (sub["product"]["id"], sub["price"]["amount"]) == (shop.products["Pro"], 2500)
    assert sub["outstandingAmount"]["amount"] == 0
    assert at(sub["nextBillingDate"]) == FEB
    settled = await Payment.get(id=stuck.id)
    assert settled.status == PaymentStatus.SUCCEEDED
