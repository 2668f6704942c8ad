"""The fields of one mutation request run one after another, and each reads what those before
it changed: the views and rows one field cached are not handed to the next (a subscription is
shown the same everywhere in the answer, through its own list and through a payment)."""

from __future__ import annotations

from conftest import Portal
from services.businesses import NewBusiness
from support import create_customer, create_product, session_for, subscribe

CANCEL_BETWEEN_READS = """
mutation($sid: ID!) {
  before: updateProfile(input: {}) { customer {
    subscriptions { edges { node { id cancelAtNextBillingDate } } }
    payments { edges { node { subscription { id cancelAtNextBillingDate } } } } } }
  cancel: cancelSubscription(input: {subscriptionId: $sid, atPeriodEnd: true}) {
    subscription { id cancelAtNextBillingDate } userErrors { code } }
  after: updateProfile(input: {}) { customer {
    payments { edges { node { subscription { id cancelAtNextBillingDate } } } }
    invoices { edges { node { subscription { id cancelAtNextBillingDate } } } }
    subscriptions { edges { node { id cancelAtNextBillingDate } } } } }
}"""


async def test_each_mutation_field_reads_what_the_ones_before_it_wrote(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "reader@example.com")
    product_id = await create_product(gql, key)
    subscribed = await subscribe(gql, key, customer_id, product_id)
    subscription_id = subscribed["subscription"]["id"]
    token = await session_for(gql, key, customer_id)

    response = await gql.raw(CANCEL_BETWEEN_READS, {"sid": subscription_id}, token=token)
    body = response.json()
    assert "errors" not in body, body
    data = body["data"]

    before = data["before"]["customer"]
    assert before["subscriptions"]["edges"][0]["node"]["cancelAtNextBillingDate"] is False
    assert (
        before["payments"]["edges"][0]["node"]["subscription"]["cancelAtNextBillingDate"] is False
    )
    assert data["cancel"]["userErrors"] == []
    assert data["cancel"]["subscription"]["cancelAtNextBillingDate"] is True

    after = data["after"]["customer"]
    shown = [
        after["subscriptions"]["edges"][0]["node"],
        after["payments"]["edges"][0]["node"]["subscription"],
        after["invoices"]["edges"][0]["node"]["subscription"],
    ]
    assert {node["id"] for node in shown} == {subscription_id}
    assert [node["cancelAtNextBillingDate"] for node in shown] == [True, True, True]
