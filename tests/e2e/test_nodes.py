"""`node(id:)` resolves every type that implements `Node`, for the callers who own the object:
the merchant's key (everything of the business and mode) and the customer's session (their
own billing objects and license keys), and nobody else."""

from __future__ import annotations

from typing import Any

from conftest import Portal
from services.businesses import NewBusiness
from services.webhooks.delivery import deliver_due_webhooks
from support import create_customer, create_product, free_port, session_for, subscribe

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODE_TYPES = """{ __type(name: "Node") { possibleTypes { name } } }"""


async def node(portal: Portal, object_id: str, token: str) -> dict[str, Any]:
    response = await portal.gql.raw(NODE, {"id": object_id}, token=token)
    body = response.json()
    if "errors" in body:
        return {"error": body["errors"][0]["extensions"]["code"]}
    return dict(body["data"]["node"])


async def test_every_node_type_resolves_for_its_owners(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "owner@example.com")
    product_id = await create_product(portal.gql, key, licenseKeyEnabled=True)
    created = await subscribe(portal.gql, key, customer_id, product_id)
    session = await session_for(portal.gql, key, customer_id)
    license_key = (
        await portal.gql("{ me { licenseKeys { edges { node { id key } } } } }", token=session)
    )["me"]["licenseKeys"]["edges"][0]["node"]
    activated = await portal.gql(
        "mutation($i: ActivateLicenseKeyInput!) { activateLicenseKey(input: $i) "
        "{ instance { id } userErrors { code } } }",
        {"i": {"key": license_key["key"], "name": "laptop"}},
    )
    endpoint = await portal.gql(
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) "
        "{ webhookEndpoint { id } } }",
        {"i": {"url": f"http://127.0.0.1:{free_port()}/hooks"}},
        token=key,
    )
    await subscribe(portal.gql, key, customer_id, product_id)  # an event for the endpoint
    await deliver_due_webhooks(portal.settings)  # an attempt (the port is closed)
    events = await portal.gql(
        "{ webhookEvents(first: 1) { edges { node { id attempts(first: 1) "
        "{ edges { node { id } } } } } } }",
        token=key,
    )
    event = events["webhookEvents"]["edges"][0]["node"]
    ids = {
        "Business": acme.business.id,
        "Customer": customer_id,
        "Product": product_id,
        "Subscription": created["subscription"]["id"],
        "Payment": created["payment"]["id"],
        "Invoice": created["invoice"]["id"],
        "PaymentMethod": created["subscription"]["paymentMethod"]["id"],
        "LicenseKey": license_key["id"],
        "LicenseKeyInstance": activated["activateLicenseKey"]["instance"]["id"],
        "WebhookEndpoint": endpoint["createWebhookEndpoint"]["webhookEndpoint"]["id"],
        "WebhookEvent": event["id"],
        "WebhookAttempt": event["attempts"]["edges"][0]["node"]["id"],
    }
    # Every type that implements Node is here: a new one must be added (and resolved).
    possible = await portal.gql(NODE_TYPES, token=key)
    assert {t["name"] for t in possible["__type"]["possibleTypes"]} == set(ids)

    # The portal session sees its business, its products and its own objects; the webhook
    # log is the merchant's alone.
    merchant_only = {"WebhookEndpoint", "WebhookEvent", "WebhookAttempt"}
    for type_name, object_id in ids.items():
        assert await node(portal, object_id, key) == {"__typename": type_name, "id": object_id}
        as_customer = await node(portal, object_id, session)
        if type_name in merchant_only:
            assert as_customer == {"error": "NOT_FOUND"}, type_name
        else:
            assert as_customer == {"__typename": type_name, "id": object_id}, type_name
        # Another business's key sees nothing; the live key sees nothing of test mode (the
        # business itself is the same in both modes).
        assert await node(portal, object_id, globex.test_api_key) == {"error": "NOT_FOUND"}
        if type_name != "Business":
            live = await node(portal, object_id, acme.live_api_key)
            assert live == {"error": "NOT_FOUND"}, type_name
