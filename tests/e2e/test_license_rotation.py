"""Rotating a license key (the merchant's rotateLicenseKey) and expired keys never activating,
through HTTP: the software's calls, the customer's portal, the email over real SMTP and the
webhook event log."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from conftest import Portal
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    GOOD_CARD,
    MailCatcher,
    create_customer,
    create_product,
    deliver_mail,
    session_for,
    subscribe,
    text_body,
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
MY_KEYS = """
{ me { licenseKeys { edges { node {
    id key status instancesCount instances { id name }
} } } } }"""
UPDATE_KEY = """
mutation($input: UpdateLicenseKeyInput!) {
  updateLicenseKey(input: $input) { licenseKey { id status } userErrors { code } }
}"""
ROTATE = """
mutation($input: RotateLicenseKeyInput!) {
  rotateLicenseKey(input: $input) {
    licenseKey { id key status instancesCount instances { id name } }
    userErrors { code field }
  }
}"""
EVENTS = """
{ webhookEvents(eventTypes: ["license_key.rotated"]) {
    totalCount edges { node { id type payload } } } }"""
BUY = """
mutation($input: CreatePaymentInput!) {
  createPayment(input: $input) { payment { status } userErrors { code } }
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


async def buy_key(portal: Portal, business: NewBusiness, email: str) -> tuple[str, str, str]:
    """A one-time purchase with a license key: (customer session, key value, key id)."""
    gql, key = portal.gql, business.test_api_key
    customer_id = await create_customer(gql, key, email, "Lin")
    product_id = await create_product(
        gql, key, interval=None, name="Editor Pro", licenseKeyEnabled=True
    )
    paid = await gql(
        BUY,
        {"input": {"customerId": customer_id, "productId": product_id, "card": GOOD_CARD}},
        token=key,
    )
    assert paid["createPayment"]["payment"]["status"] == "SUCCEEDED"
    session = await session_for(gql, key, customer_id)
    [edge] = (await gql(MY_KEYS, token=session))["me"]["licenseKeys"]["edges"]
    return session, edge["node"]["key"], edge["node"]["id"]


async def rotated_events(portal: Portal, key: str) -> list[dict[str, Any]]:
    data = await portal.gql(EVENTS, token=key)
    return [edge["node"]["payload"] for edge in data["webhookEvents"]["edges"]]


async def test_rotation_moves_devices_to_the_new_key_and_tells_the_customer(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    session, old, key_id = await buy_key(portal, acme, "lin@example.com")
    laptop = await software(portal.http, ACTIVATE, {"input": {"key": old, "name": "laptop"}})
    instance_id = laptop["instance"]["id"]
    await deliver_mail(portal.settings)
    smtp.messages.clear()

    data = await portal.gql(ROTATE, {"input": {"licenseKeyId": key_id}}, token=acme.test_api_key)
    payload = data["rotateLicenseKey"]
    assert payload["userErrors"] == []
    new = payload["licenseKey"]["key"]
    assert new != old and new.startswith("TEST-") and len(new) == len(old)
    assert payload["licenseKey"]["id"] == key_id and payload["licenseKey"]["status"] == "ACTIVE"
    assert payload["licenseKey"]["instances"] == [{"id": instance_id, "name": "laptop"}]

    # The old key is gone for the software; the device carries on under the new one.
    stale = await software(
        portal.http, VALIDATE, {"input": {"key": old, "instanceId": instance_id}}
    )
    assert stale == {"valid": False, "licenseKey": None, "userErrors": []}
    refused = await software(portal.http, ACTIVATE, {"input": {"key": old, "name": "desk"}})
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    moved = await software(
        portal.http, VALIDATE, {"input": {"key": new, "instanceId": instance_id}}
    )
    assert moved["valid"] is True and moved["licenseKey"]["instancesCount"] == 1
    desk = await software(portal.http, ACTIVATE, {"input": {"key": new, "name": "desk"}})
    assert desk["userErrors"] == []

    # The customer sees the new key, in the API and on the page.
    [edge] = (await portal.gql(MY_KEYS, token=session))["me"]["licenseKeys"]["edges"]
    assert edge["node"]["key"] == new and edge["node"]["instancesCount"] == 2
    page = await portal.http.get(
        "/test/portal/license-keys", headers={"cookie": f"portal_session={session}"}
    )
    assert page.status_code == 200 and new in page.text and old not in page.text

    # …and is emailed it, once.
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("lin@example.com")
    assert mail["Subject"] == "Your new license key for Editor Pro"
    body = text_body(mail)
    assert new in body and old not in body and "no longer works" in body

    # The merchant's webhook event carries the new key.
    [event] = await rotated_events(portal, acme.test_api_key)
    assert event["type"] == "license_key.rotated"
    assert event["data"]["id"] == key_id and event["data"]["key"] == new


async def test_the_email_speaks_german_for_a_german_business(
    portal: Portal, globex: NewBusiness, smtp: MailCatcher
) -> None:
    _session, _old, key_id = await buy_key(portal, globex, "lena@example.com")
    await deliver_mail(portal.settings)
    smtp.messages.clear()
    data = await portal.gql(ROTATE, {"input": {"licenseKeyId": key_id}}, token=globex.test_api_key)
    new = data["rotateLicenseKey"]["licenseKey"]["key"]
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("lena@example.com")
    assert mail["Subject"] == "Ihr neuer Lizenzschlüssel für Editor Pro"
    body = text_body(mail)
    assert new in body and "Der bisherige Schlüssel funktioniert nicht mehr" in body


async def test_other_tenants_and_unknown_ids_change_nothing(
    portal: Portal, acme: NewBusiness, globex: NewBusiness, smtp: MailCatcher
) -> None:
    session, old, key_id = await buy_key(portal, acme, "max@example.com")
    await deliver_mail(portal.settings)
    smtp.messages.clear()
    for token, licence_id in (
        (globex.test_api_key, key_id),  # another business
        (acme.live_api_key, key_id),  # the other mode
        (acme.test_api_key, "lic_" + "0" * 24),  # no such key
        (acme.test_api_key, "cus_" + "0" * 24),  # not a key's id
        (acme.test_api_key, "x" * 300),
    ):
        data = await portal.gql(ROTATE, {"input": {"licenseKeyId": licence_id}}, token=token)
        assert data["rotateLicenseKey"] == {
            "licenseKey": None,
            "userErrors": [{"code": "NOT_FOUND", "field": ["licenseKeyId"]}],
        }
    # Customers and anonymous callers cannot rotate at all.
    for token in (session, None):
        error = await portal.gql.error(ROTATE, {"input": {"licenseKeyId": key_id}}, token=token)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"

    ok = await software(portal.http, VALIDATE, {"input": {"key": old}})
    assert ok["valid"] is True
    [edge] = (await portal.gql(MY_KEYS, token=session))["me"]["licenseKeys"]["edges"]
    assert edge["node"]["key"] == old
    assert await rotated_events(portal, acme.test_api_key) == []
    assert await rotated_events(portal, globex.test_api_key) == []
    assert await deliver_mail(portal.settings) == 0


async def test_concurrent_rotations_leave_one_current_key(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    _session, old, key_id = await buy_key(portal, acme, "ned@example.com")
    await deliver_mail(portal.settings)
    smtp.messages.clear()
    results = await asyncio.gather(
        *(
            portal.gql(ROTATE, {"input": {"licenseKeyId": key_id}}, token=acme.test_api_key)
            for _ in range(5)
        )
    )
    payloads = [result["rotateLicenseKey"] for result in results]
    issued = [p["licenseKey"]["key"] for p in payloads if p["licenseKey"]]
    for p in payloads:
        assert p["userErrors"] in ([], [{"code": "INVALID_STATE", "field": ["licenseKeyId"]}])
    assert issued and len(set(issued)) == len(issued)
    events = await rotated_events(portal, acme.test_api_key)
    assert sorted(e["data"]["key"] for e in events) == sorted(issued)
    assert await deliver_mail(portal.settings) == len(issued)
    valid = [
        value
        for value in [old, *issued]
        if (await software(portal.http, VALIDATE, {"input": {"key": value}}))["valid"]
    ]
    assert len(valid) == 1 and valid[0] in issued


async def test_expired_keys_never_activate(portal: Portal, acme: NewBusiness) -> None:
    clock.freeze()
    _session, value, key_id = await buy_key(portal, acme, "oli@example.com")

    # Set to expire this very moment: expired, not activated, nothing counted.
    at = clock.now()
    changed = await portal.gql(
        UPDATE_KEY,
        {"input": {"licenseKeyId": key_id, "expiresAt": at.isoformat()}},
        token=acme.test_api_key,
    )
    assert changed["updateLicenseKey"]["licenseKey"]["status"] == "EXPIRED"
    refused = await software(portal.http, ACTIVATE, {"input": {"key": value, "name": "x"}})
    assert [e["code"] for e in refused["userErrors"]] == ["LICENSE_KEY_INACTIVE"]
    assert refused["instance"] is None

    # A rotated expired key stays expired under its new value.
    rotated = await portal.gql(ROTATE, {"input": {"licenseKeyId": key_id}}, token=acme.test_api_key)
    new = rotated["rotateLicenseKey"]["licenseKey"]
    assert new["status"] == "EXPIRED"
    refused = await software(portal.http, ACTIVATE, {"input": {"key": new["key"], "name": "x"}})
    assert [e["code"] for e in refused["userErrors"]] == ["LICENSE_KEY_INACTIVE"]
    check = await software(portal.http, VALIDATE, {"input": {"key": new["key"]}})
    assert check["valid"] is False and check["licenseKey"]["instancesCount"] == 0

    # Many activations at the moment a key expires: none gets through after it.
    clock.advance(timedelta(seconds=1))
    future = clock.now() + timedelta(seconds=1)
    await portal.gql(
        UPDATE_KEY,
        {"input": {"licenseKeyId": key_id, "expiresAt": future.isoformat()}},
        token=acme.test_api_key,
    )
    clock.advance(timedelta(seconds=1))
    results = await asyncio.gather(
        *(
            software(portal.http, ACTIVATE, {"input": {"key": new["key"], "name": f"d{n}"}})
            for n in range(10)
        )
    )
    assert all([e["code"] for e in r["userErrors"]] == ["LICENSE_KEY_INACTIVE"] for r in results)


async def test_a_subscription_key_expires_with_its_subscription(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key
    customer_id = await create_customer(gql, key, "pia@example.com")
    product_id = await create_product(gql, key, name="Editor Cloud", licenseKeyEnabled=True)
    created = await subscribe(gql, key, customer_id, product_id)
    session = await session_for(gql, key, customer_id)
    [edge] = (await gql(MY_KEYS, token=session))["me"]["licenseKeys"]["edges"]
    cancelled = await gql(
        "mutation($input: CancelSubscriptionInput!) { cancelSubscription(input: $input) "
        "{ subscription { status } userErrors { code } } }",
        {"input": {"subscriptionId": created["subscription"]["id"], "atPeriodEnd": False}},
        token=session,
    )
    assert cancelled["cancelSubscription"]["subscription"]["status"] == "CANCELLED"
    refused = await software(
        portal.http, ACTIVATE, {"input": {"key": edge["node"]["key"], "name": "x"}}
    )
    assert [e["code"] for e in refused["userErrors"]] == ["LICENSE_KEY_INACTIVE"]
