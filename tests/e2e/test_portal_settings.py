"""Portal settings through the API: the merchant sets what customers may do (per mode), portal
sessions read it, and every customer mutation obeys it: a refused action is a userError
NOT_ALLOWED_BY_BUSINESS and changes nothing. Merchant keys are never limited."""

from __future__ import annotations

from typing import Any

from conftest import Portal
from models import WebhookEvent
from services.businesses import NewBusiness
from support import (
    GOOD_CARD,
    UPDATE_PAYMENT_METHOD,
    GraphQLClient,
    card,
    create_customer,
    create_product,
    session_for,
    subscribe,
)

SETTINGS_FIELDS = """
  customerCancellation customersMayPause customersMayChangePlan
  customersMayUpdatePaymentMethods customersMayEditProfile customersMaySeeInvoices
  customersMayRestart multipleSubscriptionsPerProduct
"""
READ_SETTINGS = "{ business { portalSettings {" + SETTINGS_FIELDS + "} } }"
UPDATE_SETTINGS = (
    "mutation($input: UpdatePortalSettingsInput!) { updatePortalSettings(input: $input) {"
    " portalSettings {" + SETTINGS_FIELDS + "} userErrors { code field message } } }"
)
DEFAULTS = {
    "customerCancellation": "NOW",
    "customersMayPause": False,
    "customersMayChangePlan": False,
    "customersMayUpdatePaymentMethods": True,
    "customersMayEditProfile": True,
    "customersMaySeeInvoices": True,
    "customersMayRestart": False,
    "multipleSubscriptionsPerProduct": True,
}
SUBSCRIPTION = """query($id: ID!) { subscription(id: $id) {
  id status cancelAtNextBillingDate nextBillingDate pausedAt pauseAtNextBillingDate resumeAt
  paymentMethod { id last4 } } }"""
CANCEL = """mutation($input: CancelSubscriptionInput!) { cancelSubscription(input: $input) {
  subscription { id status cancelAtNextBillingDate } userErrors { code field message } } }"""
PAUSE = """mutation($input: PauseSubscriptionInput!) { pauseSubscription(input: $input) {
  subscription { id status pausedAt pauseAtNextBillingDate resumeAt nextBillingDate }
  userErrors { code field message } } }"""
RESUME = """mutation($input: ResumeSubscriptionInput!) { resumeSubscription(input: $input) {
  subscription { id status pausedAt nextBillingDate } userErrors { code field message } } }"""
RESTART = """mutation($input: RestartSubscriptionInput!) { restartSubscription(input: $input) {
  subscription { id status nextBillingDate product { id } paymentMethod { id } }
  payment { id status amount { amount } } invoice { id status }
  userErrors { code field message } } }"""
ADD_CARD = """mutation($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) {
  paymentMethod { id } userErrors { code message } } }"""
REMOVE_CARD = """mutation($input: RemovePaymentMethodInput!) { removePaymentMethod(input: $input) {
  paymentMethod { id } userErrors { code message } } }"""
UPDATE_PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  customer { name locale } userErrors { code message } } }"""
UPDATE_BILLING_DETAILS = """mutation($input: UpdateBillingDetailsInput!) {
  updateBillingDetails(input: $input) { userErrors { code message } } }"""
ME = """{ me { name paymentMethods { id } billingDetails { name }
  invoices(first: 10) { totalCount edges { node { id } } } } }"""


async def set_settings(gql: GraphQLClient, key: str, **changes: Any) -> dict[str, Any]:
    data = await gql(UPDATE_SETTINGS, {"input": changes}, token=key)
    payload = data["updatePortalSettings"]
    assert payload["userErrors"] == [], payload
    return dict(payload["portalSettings"])


async def state(gql: GraphQLClient, key: str, sub_id: str) -> dict[str, Any]:
    return dict((await gql(SUBSCRIPTION, {"id": sub_id}, token=key))["subscription"])


def refused(payload: dict[str, Any]) -> None:
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_ALLOWED_BY_BUSINESS"], payload


async def customer_with_subscription(
    gql: GraphQLClient, key: str, email: str = "ada@example.com", **product: Any
) -> tuple[str, str, str, str]:
    """(customer, product, subscription, session token)"""
    customer_id = await create_customer(gql, key, email)
    product_id = await create_product(gql, key, **product)
    result = await subscribe(gql, key, customer_id, product_id)
    assert result["userErrors"] == [], result
    token = await session_for(gql, key, customer_id)
    return customer_id, product_id, result["subscription"]["id"], token


async def test_settings_default_per_mode_read_by_sessions_and_sent_as_events(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    assert (await gql(READ_SETTINGS, token=key))["business"]["portalSettings"] == DEFAULTS

    changed = await set_settings(
        gql, key, customerCancellation="AT_PERIOD_END", customersMayPause=True
    )
    assert changed == {
        **DEFAULTS,
        "customerCancellation": "AT_PERIOD_END",
        "customersMayPause": True,
    }
    # Omitted switches stay; the live mode has its own settings.
    changed = await set_settings(gql, key, customersMaySeeInvoices=False)
    assert changed["customersMayPause"] is True and changed["customersMaySeeInvoices"] is False
    live = await gql(READ_SETTINGS, token=acme.live_api_key)
    assert live["business"]["portalSettings"] == DEFAULTS

    customer_id = await create_customer(gql, key, "ada@example.com")
    token = await session_for(gql, key, customer_id)
    seen = (await gql(READ_SETTINGS, token=token))["business"]["portalSettings"]
    assert seen == changed

    # Null is not a setting; nothing changes.
    data = await gql(UPDATE_SETTINGS, {"input": {"customersMayPause": None}}, token=key)
    assert [e["code"] for e in data["updatePortalSettings"]["userErrors"]] == ["INVALID_INPUT"]
    assert (await gql(READ_SETTINGS, token=key))["business"]["portalSettings"] == changed

    # Customers cannot change them.
    error = await gql.error(UPDATE_SETTINGS, {"input": {"customersMayPause": False}}, token=token)
    assert error["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}

    events = await WebhookEvent.filter(
        business_id=acme.business.id, type="portal_settings.updated"
    ).order_by("created_at")
    assert len(events) == 2
    assert events[-1].payload["data"]["customer_view_invoices"] is False
    # An update that changes nothing is no event.
    await set_settings(gql, key, customersMaySeeInvoices=False)
    assert (
        await WebhookEvent.filter(
            business_id=acme.business.id, type="portal_settings.updated"
        ).count()
        == 2
    )


async def test_cancellation_switch(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    _, _, sub_id, token = await customer_with_subscription(gql, key)
    before = await state(gql, key, sub_id)

    await set_settings(gql, key, customerCancellation="NOT_ALLOWED")
    for at_period_end in (True, False):
        data = await gql(
            CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": at_period_end}}, token
        )
        refused(data["cancelSubscription"])
    assert await state(gql, key, sub_id) == before

    await set_settings(gql, key, customerCancellation="AT_PERIOD_END")
    data = await gql(CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": False}}, token)
    refused(data["cancelSubscription"])
    assert await state(gql, key, sub_id) == before
    data = await gql(CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": True}}, token)
    assert data["cancelSubscription"]["subscription"]["cancelAtNextBillingDate"] is True

    await set_settings(gql, key, customerCancellation="NOW")
    data = await gql(CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": False}}, token)
    assert data["cancelSubscription"]["subscription"]["status"] == "CANCELLED"


async def test_payment_method_switch(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    _, _, sub_id, token = await customer_with_subscription(gql, key)
    before = await state(gql, key, sub_id)
    cards_before = (await gql(ME, token=token))["me"]["paymentMethods"]

    await set_settings(gql, key, customersMayUpdatePaymentMethods=False)
    refused((await gql(ADD_CARD, {"input": {"card": GOOD_CARD}}, token))["addPaymentMethod"])
    data = await gql(
        UPDATE_PAYMENT_METHOD,
        {"input": {"subscriptionId": sub_id, "card": card("5555555555554444")}},
        token,
    )
    refused(data["updatePaymentMethod"])
    data = await gql(REMOVE_CARD, {"input": {"paymentMethodId": cards_before[0]["id"]}}, token)
    refused(data["removePaymentMethod"])
    assert await state(gql, key, sub_id) == before
    assert (await gql(ME, token=token))["me"]["paymentMethods"] == cards_before

    await set_settings(gql, key, customersMayUpdatePaymentMethods=True)
    data = await gql(
        UPDATE_PAYMENT_METHOD,
        {"input": {"subscriptionId": sub_id, "card": card("5555555555554444")}},
        token,
    )
    assert data["updatePaymentMethod"]["userErrors"] == []
    assert data["updatePaymentMethod"]["subscription"]["paymentMethod"]["last4"] == "4444"


async def test_profile_and_invoice_switches(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id, _, _, token = await customer_with_subscription(gql, key)
    invoices = "query($id: ID!) { customer(id: $id) { invoices { edges { node { id } } } } }"
    edges = (await gql(invoices, {"id": customer_id}, token=key))["customer"]["invoices"]["edges"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    invoice = {"id": edges[0]["node"]["id"]}

    await set_settings(gql, key, customersMayEditProfile=False, customersMaySeeInvoices=False)
    error = await gql.error(node, invoice, token=token)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await gql(node, invoice, token=key))["node"]["id"] == invoice["id"]
    data = await gql(UPDATE_PROFILE, {"input": {"name": "Someone Else"}}, token)
    refused(data["updateProfile"])
    details = {"billingDetails": {"name": "Someone Else"}}
    refused((await gql(UPDATE_BILLING_DETAILS, {"input": details}, token))["updateBillingDetails"])
    # The language is always the customer's to choose.
    data = await gql(UPDATE_PROFILE, {"input": {"locale": "de"}}, token)
    assert data["updateProfile"]["userErrors"] == []
    me = (await gql(ME, token=token))["me"]
    assert me["name"] == "Test Customer"
    assert me["billingDetails"] is None or me["billingDetails"]["name"] != "Someone Else"
    assert me["invoices"] == {"totalCount": 0, "edges": []}

    await set_settings(gql, key, customersMayEditProfile=True, customersMaySeeInvoices=True)
    data = await gql(UPDATE_PROFILE, {"input": {"name": "Ada L."}}, token)
    assert data["updateProfile"]["customer"]["name"] == "Ada L."
    assert (await gql(UPDATE_BILLING_DETAILS, {"input": details}, token))["updateBillingDetails"][
        "userErrors"
    ] == []
    assert (await gql(ME, token=token))["me"]["invoices"]["totalCount"] == 1
    assert (await gql(node, invoice, token=token))["node"]["id"] == invoice["id"]


async def test_pause_switch_and_merchant_is_not_limited(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    _, _, sub_id, token = await customer_with_subscription(gql, key)
    before = await state(gql, key, sub_id)

    # Another business, or the other mode, finds no such subscription.
    for other in (globex.test_api_key, acme.live_api_key):
        for mutation, name in ((PAUSE, "pauseSubscription"), (RESUME, "resumeSubscription")):
            data = await gql(mutation, {"input": {"subscriptionId": sub_id}}, other)
            assert [e["code"] for e in data[name]["userErrors"]] == ["NOT_FOUND"]

    refused((await gql(PAUSE, {"input": {"subscriptionId": sub_id}}, token))["pauseSubscription"])
    assert await state(gql, key, sub_id) == before

    # The merchant may pause whatever the settings say; the customer may always resume.
    data = await gql(PAUSE, {"input": {"subscriptionId": sub_id}}, key)
    assert data["pauseSubscription"]["subscription"]["status"] == "PAUSED"
    data = await gql(RESUME, {"input": {"subscriptionId": sub_id}}, token)
    assert data["resumeSubscription"]["subscription"]["status"] == "ACTIVE"
    assert (
        data["resumeSubscription"]["subscription"]["nextBillingDate"] == before["nextBillingDate"]
    )

    await set_settings(gql, key, customersMayPause=True)
    data = await gql(PAUSE, {"input": {"subscriptionId": sub_id, "atPeriodEnd": True}}, token)
    paused = data["pauseSubscription"]["subscription"]
    assert paused["status"] == "ACTIVE" and paused["pauseAtNextBillingDate"] is True
    # Calling off a pause set for the period end.
    data = await gql(RESUME, {"input": {"subscriptionId": sub_id}}, token)
    assert data["resumeSubscription"]["userErrors"] == []
    assert (await state(gql, key, sub_id))["pauseAtNextBillingDate"] is False


async def test_restart_switch_and_one_subscription_per_product(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id, product_id, sub_id, token = await customer_with_subscription(gql, key)
    data = await gql(CANCEL, {"input": {"subscriptionId": sub_id, "atPeriodEnd": False}}, token)
    assert data["cancelSubscription"]["subscription"]["status"] == "CANCELLED"
    method_id = (await state(gql, key, sub_id))["paymentMethod"]["id"]
    restart = {"input": {"subscriptionId": sub_id, "paymentMethodId": method_id}}

    refused((await gql(RESTART, restart, token))["restartSubscription"])
    count = "query($id: ID!) { customer(id: $id) { subscriptions { totalCount } } }"
    assert (await gql(count, {"id": customer_id}, token=key))["customer"]["subscriptions"][
        "totalCount"
    ] == 1

    # One subscription per product: refused while another one runs.
    await set_settings(gql, key, customersMayRestart=True, multipleSubscriptionsPerProduct=False)
    running = await subscribe(gql, key, customer_id, product_id)
    refused((await gql(RESTART, restart, token))["restartSubscription"])
    data = await gql(
        CANCEL,
        {"input": {"subscriptionId": running["subscription"]["id"], "atPeriodEnd": False}},
        token,
    )
    assert data["cancelSubscription"]["userErrors"] == []

    data = (await gql(RESTART, restart, token))["restartSubscription"]
    assert data["userErrors"] == [], data
    assert data["subscription"]["status"] == "ACTIVE"
    assert data["subscription"]["product"]["id"] == product_id
    assert data["payment"]["status"] == "SUCCEEDED" and data["invoice"]["status"] == "PAID"
    assert (await gql(count, {"id": customer_id}, token=key))["customer"]["subscriptions"][
        "totalCount"
    ] == 3
