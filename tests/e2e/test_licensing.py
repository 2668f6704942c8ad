"""License keys from purchase to the customer's software and back, through HTTP."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx

from conftest import Portal, make_portal
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    GOOD_CARD,
    create_customer,
    create_product,
    session_for,
    subscribe,
)

ACTIVATE = """
mutation($input: ActivateLicenseKeyInput!) {
  activateLicenseKey(input: $input) { instance { id name } userErrors { code message } }
}"""
VALIDATE = """
mutation($input: ValidateLicenseKeyInput!) {
  validateLicenseKey(input: $input) {
    valid licenseKey { status instancesCount } userErrors { code }
  }
}"""
DEACTIVATE = """
mutation($input: DeactivateLicenseKeyInput!) {
  deactivateLicenseKey(input: $input) { instance { id } userErrors { code } }
}"""
MY_KEYS = """
{ me { licenseKeys { edges { node {
    id key status activationsLimit instancesCount expiresAt product { name }
    instances { id name }
} } } } }"""
UPDATE_KEY = """
mutation($input: UpdateLicenseKeyInput!) {
  updateLicenseKey(input: $input) { licenseKey { id status activationsLimit } userErrors { code } }
}"""


async def software(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """What licensed software does: a plain HTTP POST with the key and nothing else."""
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(next(iter(body["data"].values())))


async def _buy_key(portal: Portal, acme: NewBusiness, **product: Any) -> tuple[str, str, str]:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "lin@example.com", "Linus")
    product_id = await create_product(
        gql,
        key,
        interval=product.pop("interval", None),
        name="Editor Pro",
        licenseKeyEnabled=True,
        **product,
    )
    paid = await gql(
        "mutation($input: CreatePaymentInput!) { createPayment(input: $input)"
        " { payment { status } userErrors { code } } }",
        {"input": {"customerId": customer_id, "productId": product_id, "card": GOOD_CARD}},
        token=key,
    )
    assert paid["createPayment"]["payment"]["status"] == "SUCCEEDED"
    session = await session_for(gql, key, customer_id)
    [edge] = (await gql(MY_KEYS, token=session))["me"]["licenseKeys"]["edges"]
    return session, edge["node"]["key"], edge["node"]["id"]


async def test_purchase_key_activate_validate_deactivate(portal: Portal, acme: NewBusiness) -> None:
    session, license_key, _ = await _buy_key(portal, acme, licenseKeyActivationsLimit=1)
    assert license_key.startswith("TEST-") and len(license_key) == 5 + 29

    activated = await software(
        portal.http, ACTIVATE, {"input": {"key": license_key, "name": "laptop"}}
    )
    assert activated["userErrors"] == []
    instance_id = activated["instance"]["id"]
    assert instance_id.startswith("lki_")
    ok = await software(
        portal.http, VALIDATE, {"input": {"key": license_key, "instanceId": instance_id}}
    )
    assert ok["valid"] is True and ok["licenseKey"]["instancesCount"] == 1

    # The limit is 1: a second device is refused.
    second = await software(portal.http, ACTIVATE, {"input": {"key": license_key, "name": "desk"}})
    assert [e["code"] for e in second["userErrors"]] == ["ACTIVATION_LIMIT_REACHED"]

    # The customer sees the device in the portal and removes it.
    [edge] = (await portal.gql(MY_KEYS, token=session))["me"]["licenseKeys"]["edges"]
    assert edge["node"]["instances"] == [{"id": instance_id, "name": "laptop"}]
    assert edge["node"]["product"]["name"] == "Editor Pro"
    removed = await portal.gql(
        "mutation($input: DeactivateLicenseKeyInstanceInput!) {"
        " deactivateLicenseKeyInstance(input: $input) { instance { id } userErrors { code } } }",
        {"input": {"instanceId": instance_id}},
        token=session,
    )
    assert removed["deactivateLicenseKeyInstance"]["userErrors"] == []
    gone = await software(
        portal.http, VALIDATE, {"input": {"key": license_key, "instanceId": instance_id}}
    )
    assert gone["valid"] is False

    again = await software(portal.http, ACTIVATE, {"input": {"key": license_key, "name": "desk"}})
    assert again["userErrors"] == []
    freed = await software(
        portal.http,
        DEACTIVATE,
        {"input": {"key": license_key, "instanceId": again["instance"]["id"]}},
    )
    assert freed["userErrors"] == []


async def test_unknown_keys_and_other_customers_instances(
    portal: Portal, acme: NewBusiness
) -> None:
    _session, license_key, _ = await _buy_key(portal, acme)
    unknown = await software(portal.http, VALIDATE, {"input": {"key": "TEST-AAAAA-BBBBB"}})
    assert unknown == {"valid": False, "licenseKey": None, "userErrors": []}
    refused = await software(portal.http, ACTIVATE, {"input": {"key": "NOPE", "name": "x"}})
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]

    # Another customer's session cannot remove this key's devices.
    activated = await software(portal.http, ACTIVATE, {"input": {"key": license_key, "name": "a"}})
    other = await create_customer(portal.gql, acme.test_api_key, "eve@example.com")
    eve = await session_for(portal.gql, acme.test_api_key, other)
    attempt = await portal.gql(
        "mutation($input: DeactivateLicenseKeyInstanceInput!) {"
        " deactivateLicenseKeyInstance(input: $input) { userErrors { code } } }",
        {"input": {"instanceId": activated["instance"]["id"]}},
        token=eve,
    )
    assert [e["code"] for e in attempt["deactivateLicenseKeyInstance"]["userErrors"]] == [
        "NOT_FOUND"
    ]
    still = await software(
        portal.http,
        VALIDATE,
        {"input": {"key": license_key, "instanceId": activated["instance"]["id"]}},
    )
    assert still["valid"] is True


async def test_expiry_by_clock_and_disabled_by_merchant(portal: Portal, acme: NewBusiness) -> None:
    clock.freeze()
    _session, license_key, key_id = await _buy_key(portal, acme, licenseKeyDurationDays=30)
    clock.advance(timedelta(days=29, hours=23))
    assert (await software(portal.http, VALIDATE, {"input": {"key": license_key}}))["valid"] is True
    clock.advance(timedelta(hours=2))
    expired = await software(portal.http, VALIDATE, {"input": {"key": license_key}})
    assert expired["valid"] is False and expired["licenseKey"]["status"] == "EXPIRED"
    refused = await software(portal.http, ACTIVATE, {"input": {"key": license_key, "name": "x"}})
    assert [e["code"] for e in refused["userErrors"]] == ["LICENSE_KEY_INACTIVE"]

    # The merchant extends it, then disables it.
    extended = await portal.gql(
        UPDATE_KEY, {"input": {"licenseKeyId": key_id, "expiresAt": None}}, token=acme.test_api_key
    )
    assert extended["updateLicenseKey"]["licenseKey"]["status"] == "ACTIVE"
    assert (await software(portal.http, VALIDATE, {"input": {"key": license_key}}))["valid"] is True
    disabled = await portal.gql(
        UPDATE_KEY, {"input": {"licenseKeyId": key_id, "disabled": True}}, token=acme.test_api_key
    )
    assert disabled["updateLicenseKey"]["licenseKey"]["status"] == "DISABLED"
    assert (await software(portal.http, VALIDATE, {"input": {"key": license_key}}))[
        "valid"
    ] is False
    refused = await software(portal.http, ACTIVATE, {"input": {"key": license_key, "name": "x"}})
    assert [e["code"] for e in refused["userErrors"]] == ["LICENSE_KEY_INACTIVE"]

    # Another business cannot see or change it.
    other = await portal.gql.error(
        "query($id: ID!) { licenseKey(id: $id) { id } }", {"id": key_id}, token=acme.live_api_key
    )
    assert other["extensions"]["code"] == "NOT_FOUND"


async def test_subscription_key_follows_the_subscription(portal: Portal, acme: NewBusiness) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "sub@example.com")
    product_id = await create_product(gql, key, licenseKeyEnabled=True)
    created = await subscribe(gql, key, customer_id, product_id)
    session = await session_for(gql, key, customer_id)
    [edge] = (await gql(MY_KEYS, token=session))["me"]["licenseKeys"]["edges"]
    license_key = edge["node"]["key"]
    assert (await software(portal.http, VALIDATE, {"input": {"key": license_key}}))["valid"] is True
    cancelled = await gql(
        "mutation($input: CancelSubscriptionInput!) { cancelSubscription(input: $input)"
        " { subscription { status } userErrors { code } } }",
        {"input": {"subscriptionId": created["subscription"]["id"], "reason": "TOO_EXPENSIVE"}},
        token=session,
    )
    assert cancelled["cancelSubscription"]["subscription"]["status"] == "CANCELLED"
    after = await software(portal.http, VALIDATE, {"input": {"key": license_key}})
    assert after["valid"] is False and after["licenseKey"]["status"] == "EXPIRED"
    listed = await gql(
        "{ expired: licenseKeys(status: EXPIRED) { totalCount } "
        "active: licenseKeys(status: ACTIVE) { totalCount } }",
        token=key,
    )
    assert listed == {"expired": {"totalCount": 1}, "active": {"totalCount": 0}}


async def test_fifty_concurrent_activations_with_a_limit_of_three(
    portal: Portal, acme: NewBusiness
) -> None:
    _, license_key, _ = await _buy_key(portal, acme, licenseKeyActivationsLimit=3)
    results = await asyncio.gather(
        *(
            software(portal.http, ACTIVATE, {"input": {"key": license_key, "name": f"d{i}"}})
            for i in range(50)
        )
    )
    won = [r for r in results if not r["userErrors"]]
    lost = [r["userErrors"][0]["code"] for r in results if r["userErrors"]]
    assert len(won) == 3
    assert lost == ["ACTIVATION_LIMIT_REACHED"] * 47
    state = await software(portal.http, VALIDATE, {"input": {"key": license_key}})
    assert state["licenseKey"]["instancesCount"] == 3


async def test_public_calls_are_rate_limited_per_ip_and_per_key(
    portal: Portal, acme: NewBusiness
) -> None:
    _, license_key, _ = await _buy_key(portal, acme)
    limited = replace(portal.settings, rate_limit_license_ip="4/minute")
    http, _ = await make_portal(limited)
    async with http:
        for _ in range(4):
            ok = await software(http, VALIDATE, {"input": {"key": license_key}})
            assert ok["valid"] is True
        response = await http.post(
            "/graphql", json={"query": VALIDATE, "variables": {"input": {"key": "OTHER"}}}
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"

    per_key = replace(portal.settings, rate_limit_license_key="2/minute")
    http, _ = await make_portal(per_key)
    async with http:
        for _ in range(2):
            await software(http, VALIDATE, {"input": {"key": license_key.lower()}})
        response = await http.post(
            "/graphql", json={"query": VALIDATE, "variables": {"input": {"key": license_key}}}
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        other_key = await http.post(
            "/graphql", json={"query": VALIDATE, "variables": {"input": {"key": "TEST-OTHER"}}}
        )
        assert "errors" not in other_key.json()


async def test_twenty_concurrent_deactivations_succeed_exactly_once(
    portal: Portal, acme: NewBusiness
) -> None:
    _, license_key, _ = await _buy_key(portal, acme, licenseKeyActivationsLimit=3)
    activated = await software(portal.http, ACTIVATE, {"input": {"key": license_key, "name": "a"}})
    instance_id = activated["instance"]["id"]
    results = await asyncio.gather(
        *(
            software(
                portal.http,
                DEACTIVATE,
                {"input": {"key": license_key, "instanceId": instance_id}},
            )
            for _ in range(20)
        )
    )
    won = [r for r in results if not r["userErrors"]]
    lost = [r["userErrors"][0]["code"] for r in results if r["userErrors"]]
    assert len(won) == 1
    assert lost == ["NOT_FOUND"] * 19
    state = await software(portal.http, VALIDATE, {"input": {"key": license_key}})
    assert state["licenseKey"]["instancesCount"] == 0
