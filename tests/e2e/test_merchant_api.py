"""The merchant's API through HTTP: customers, the business, nodes, portal links, API keys."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from conftest import Portal
from models import ApiKey, Mode
from models.clock import clock
from services.businesses import NewBusiness
from services.customers import create_customer as create_customer_directly
from services.scope import Scope
from support import (
    CREATE_CUSTOMER,
    CREATE_PORTAL_SESSION,
    SIGN_IN,
    GraphQLClient,
    code_of,
    create_customer,
    session_for,
    token_of,
)

CUSTOMER = """
query($id: ID!) {
  customer(id: $id) { id email name phoneNumber createdAt }
}"""

CUSTOMERS = """
query($first: Int, $after: String, $email: String) {
  customers(first: $first, after: $after, email: $email) {
    totalCount
    edges { cursor node { id email name } }
    pageInfo { hasNextPage endCursor }
  }
}"""

UPDATE_CUSTOMER = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    customer { id email name phoneNumber }
    userErrors { code field message }
  }
}"""

BUSINESS = "{ business { id name supportEmail portalLoginUrl } }"

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Customer { email name }
    ... on Business { businessName: name supportEmail }
  }
}"""

ME = "{ me { id email } }"


async def customers_with_email(gql: GraphQLClient, key: str, email: str) -> list[dict[str, Any]]:
    data = await gql(CUSTOMERS, {"email": email}, token=key)
    connection = data["customers"]
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"] for edge in connection["edges"]]


async def total_customers(gql: GraphQLClient, key: str) -> int:
    data = await gql(CUSTOMERS, {"first": 1}, token=key)
    return int(data["customers"]["totalCount"])


async def read_customer(gql: GraphQLClient, key: str, customer_id: str) -> dict[str, Any]:
    data = await gql(CUSTOMER, {"id": customer_id}, token=key)
    return dict(data["customer"])


async def create(gql: GraphQLClient, key: str, **fields: Any) -> dict[str, Any]:
    data = await gql(CREATE_CUSTOMER, {"input": fields}, token=key)
    return dict(data["createCustomer"])


async def update(gql: GraphQLClient, key: str, customer_id: str, **fields: Any) -> dict[str, Any]:
    data = await gql(UPDATE_CUSTOMER, {"input": {"customerId": customer_id, **fields}}, token=key)
    return dict(data["updateCustomer"])


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    for error in payload["userErrors"]:
        assert error["message"].strip(), payload  # a clear message for people, not just a code
    return [(error["code"], error["field"]) for error in payload["userErrors"]]


# createCustomer


async def test_create_customer_returns_it_with_phone_in_e164(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    payload = await create(
        portal.gql,
        key,
        email="ada@example.com",
        name="Ada Lovelace",
        phoneNumber="+49 151 23456789",
    )
    assert payload["userErrors"] == []
    customer = payload["customer"]
    assert customer["id"].startswith("cus_")
    assert customer["email"] == "ada@example.com"
    assert customer["name"] == "Ada Lovelace"
    assert customer["phoneNumber"] == "+4915123456789"

    stored = await read_customer(portal.gql, key, customer["id"])
    assert {k: stored[k] for k in ("id", "email", "name", "phoneNumber")} == customer
    created_at = datetime.fromisoformat(stored["createdAt"])
    assert created_at.tzinfo is not None
    assert abs(created_at - clock.now()) < timedelta(minutes=1)

    # Name and phone are optional.
    bare = await create(portal.gql, key, email="bare@example.com")
    assert bare["userErrors"] == []
    assert bare["customer"]["name"] is None and bare["customer"]["phoneNumber"] is None


async def test_invalid_email_is_rejected_and_creates_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    for bad in ("not-an-email", "a@", "", "   ", "ada@@example.com"):
        payload = await create(portal.gql, key, email=bad, name="Nobody")
        assert codes(payload) == [("INVALID_EMAIL", ["email"])], bad
        assert payload["customer"] is None
    assert await total_customers(portal.gql, key) == 0


async def test_blank_name_is_no_name(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    created = await create(portal.gql, key, email="ada@example.com", name="Ada")
    customer_id = created["customer"]["id"]
    named = await update(portal.gql, key, customer_id, name="  Ada   Lovelace ")
    assert named["customer"]["name"] == "Ada Lovelace"
    blanked = await update(portal.gql, key, customer_id, name="   ")
    assert blanked["userErrors"] == []
    assert blanked["customer"]["name"] is None

    # createCustomer treats a blank name the same way updateCustomer does.
    blank = await create(portal.gql, key, email="blank@example.com", name="   ")
    assert blank["userErrors"] == []
    assert blank["customer"]["name"] is None


async def test_invalid_phone_number_is_rejected_and_creates_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    for bad in ("12345", "+49 1", "0151 23456789", "call me"):
        payload = await create(portal.gql, key, email="phone@example.com", phoneNumber=bad)
        assert codes(payload) == [("INVALID_PHONE_NUMBER", ["phoneNumber"])], bad
        assert payload["customer"] is None
        assert await customers_with_email(portal.gql, key, "phone@example.com") == []
    assert await total_customers(portal.gql, key) == 0

    # The address was not reserved by the failed attempts.
    ok = await create(portal.gql, key, email="phone@example.com", phoneNumber="+4915123456789")
    assert ok["userErrors"] == []


async def test_email_is_unique_per_business_and_mode_case_insensitively(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    first = await create(portal.gql, acme.test_api_key, email="ada@example.com", name="Ada")
    assert first["userErrors"] == []
    ada_id = first["customer"]["id"]

    for taken in ("ADA@example.com", "ada@example.com", " Ada@Example.com "):
        again = await create(portal.gql, acme.test_api_key, email=taken, name="Impostor")
        assert codes(again) == [("EMAIL_TAKEN", ["email"])], taken
        assert again["customer"] is None
    [only] = await customers_with_email(portal.gql, acme.test_api_key, "ada@example.com")
    assert only == {"id": ada_id, "email": "ada@example.com", "name": "Ada"}
    assert await total_customers(portal.gql, acme.test_api_key) == 1

    # Live mode and another business have their own customers.
    live = await create(portal.gql, acme.live_api_key, email="ADA@example.com", name="Live Ada")
    assert live["userErrors"] == []
    assert live["customer"]["id"] != ada_id
    other = await create(portal.gql, globex.test_api_key, email="ada@example.com")
    assert other["userErrors"] == []
    assert other["customer"]["id"] not in (ada_id, live["customer"]["id"])

    # ...and the rule holds inside each of them too.
    live_again = await create(portal.gql, acme.live_api_key, email="ada@EXAMPLE.com")
    assert codes(live_again) == [("EMAIL_TAKEN", ["email"])]
    assert await total_customers(portal.gql, acme.live_api_key) == 1
    stored = await read_customer(portal.gql, acme.test_api_key, ada_id)
    assert (stored["email"], stored["name"]) == ("ada@example.com", "Ada")


# updateCustomer


async def test_update_customer_changes_the_fields_sent_and_keeps_the_others(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    created = await create(
        portal.gql, key, email="ada@example.com", name="Ada", phoneNumber="+4915123456789"
    )
    customer_id = created["customer"]["id"]

    everything = await update(
        portal.gql,
        key,
        customer_id,
        email="ada.lovelace@example.com",
        name="Ada Lovelace",
        phoneNumber="+44 20 7183 8750",
    )
    expected = {
        "id": customer_id,
        "email": "ada.lovelace@example.com",
        "name": "Ada Lovelace",
        "phoneNumber": "+442071838750",
    }
    assert everything == {"customer": expected, "userErrors": []}
    assert await customers_with_email(portal.gql, key, "ada@example.com") == []

    only_name = await update(portal.gql, key, customer_id, name="Countess Lovelace")
    assert only_name["userErrors"] == []
    expected["name"] = "Countess Lovelace"
    assert only_name["customer"] == expected

    only_phone = await update(portal.gql, key, customer_id, phoneNumber="+4930123456")
    assert only_phone["userErrors"] == []
    expected["phoneNumber"] = "+4930123456"
    assert only_phone["customer"] == expected

    cleared = await update(portal.gql, key, customer_id, name=None)
    assert cleared["userErrors"] == []
    expected["name"] = None
    assert cleared["customer"] == expected

    # The customer's own address in other capitals is not "taken".
    recased = await update(portal.gql, key, customer_id, email="Ada.Lovelace@example.com")
    assert recased["userErrors"] == []
    expected["email"] = "Ada.Lovelace@example.com"
    assert recased["customer"] == expected

    stored = await read_customer(portal.gql, key, customer_id)
    assert {k: stored[k] for k in expected} == expected


async def test_update_customer_to_another_customers_email_changes_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    ada = (await create(portal.gql, key, email="ada@example.com", name="Ada"))["customer"]
    bob = (await create(portal.gql, key, email="bob@example.com", name="Bob"))["customer"]

    for taken in ("bob@example.com", "BOB@Example.com"):
        payload = await update(portal.gql, key, ada["id"], email=taken, name="Ada Renamed")
        assert codes(payload) == [("EMAIL_TAKEN", ["email"])], taken
        assert payload["customer"] is None

    stored_ada = await read_customer(portal.gql, key, ada["id"])
    assert (stored_ada["email"], stored_ada["name"]) == ("ada@example.com", "Ada")
    stored_bob = await read_customer(portal.gql, key, bob["id"])
    assert (stored_bob["email"], stored_bob["name"]) == ("bob@example.com", "Bob")
    [found] = await customers_with_email(portal.gql, key, "bob@example.com")
    assert found["id"] == bob["id"]


async def test_update_customer_with_invalid_input_changes_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    created = await create(
        portal.gql, key, email="ada@example.com", name="Ada", phoneNumber="+4915123456789"
    )
    customer = created["customer"]

    bad_phone = await update(
        portal.gql, key, customer["id"], name="Ada Renamed", phoneNumber="0151 23456789"
    )
    assert codes(bad_phone) == [("INVALID_PHONE_NUMBER", ["phoneNumber"])]
    assert bad_phone["customer"] is None

    bad_email = await update(portal.gql, key, customer["id"], name="Ada Renamed", email="a@")
    assert codes(bad_email) == [("INVALID_EMAIL", ["email"])]
    assert bad_email["customer"] is None

    no_email = await update(portal.gql, key, customer["id"], email=None)
    assert codes(no_email) == [("INVALID_EMAIL", ["email"])]

    stored = await read_customer(portal.gql, key, customer["id"])
    assert {k: stored[k] for k in customer} == customer


# customer(id) and customers


async def test_customers_are_paginated_newest_first(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    created = [
        await create_customer(portal.gql, key, f"c{i}@example.com", f"Customer {i}")
        for i in range(5)
    ]
    newest_first = list(reversed(created))

    seen: list[str] = []
    after: str | None = None
    pages: list[tuple[int, bool]] = []
    for _ in range(3):
        data = await portal.gql(CUSTOMERS, {"first": 2, "after": after}, token=key)
        connection = data["customers"]
        assert connection["totalCount"] == 5
        edges = connection["edges"]
        page_info = connection["pageInfo"]
        assert page_info["endCursor"] == edges[-1]["cursor"]
        pages.append((len(edges), page_info["hasNextPage"]))
        seen += [edge["node"]["id"] for edge in edges]
        after = page_info["endCursor"]
    assert pages == [(2, True), (2, True), (1, False)]
    assert seen == newest_first

    # A cursor from the middle of a page continues right after that customer.
    data = await portal.gql(CUSTOMERS, {"first": 5}, token=key)
    edges = data["customers"]["edges"]
    assert [edge["node"]["id"] for edge in edges] == newest_first
    assert data["customers"]["pageInfo"]["hasNextPage"] is False
    data = await portal.gql(CUSTOMERS, {"first": 2, "after": edges[2]["cursor"]}, token=key)
    assert [edge["node"]["id"] for edge in data["customers"]["edges"]] == newest_first[3:]

    one = await read_customer(portal.gql, key, created[3])
    assert (one["id"], one["email"], one["name"]) == (created[3], "c3@example.com", "Customer 3")


async def walk_customers(gql: GraphQLClient, key: str, page_size: int) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while True:
        data = await gql(CUSTOMERS, {"first": page_size, "after": after}, token=key)
        connection = data["customers"]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


async def test_customers_created_in_the_same_instant_are_each_listed_once(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    clock.freeze()
    created = {await create_customer(portal.gql, key, f"tie{i}@example.com") for i in range(5)}
    listed = await walk_customers(portal.gql, key, 2)
    assert sorted(listed) == sorted(created)


async def test_paging_is_stable_while_customers_are_added(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    older = [await create_customer(portal.gql, key, f"old{i}@example.com") for i in range(4)]
    data = await portal.gql(CUSTOMERS, {"first": 2}, token=key)
    first_page = [edge["node"]["id"] for edge in data["customers"]["edges"]]
    assert first_page == older[:1:-1]

    newcomer = await create_customer(portal.gql, key, "new@example.com")
    after = data["customers"]["pageInfo"]["endCursor"]
    data = await portal.gql(CUSTOMERS, {"first": 2, "after": after}, token=key)
    assert [edge["node"]["id"] for edge in data["customers"]["edges"]] == older[1::-1]
    assert data["customers"]["pageInfo"]["hasNextPage"] is False
    assert data["customers"]["totalCount"] == 5
    assert (await walk_customers(portal.gql, key, 2))[0] == newcomer


async def test_customers_email_filter_is_exact_and_case_insensitive(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    ada = await create_customer(portal.gql, key, "Ada@Example.com", "Ada")
    await create_customer(portal.gql, key, "ada.two@example.com", "Ada Two")
    await create_customer(portal.gql, key, "bob@example.com", "Bob")

    for query in ("ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"):
        found = await customers_with_email(portal.gql, key, query)
        assert [(c["id"], c["email"].lower()) for c in found] == [(ada, "ada@example.com")], query
    assert await customers_with_email(portal.gql, key, "ada@example") == []
    assert await customers_with_email(portal.gql, key, "nobody@example.com") == []
    assert await total_customers(portal.gql, key) == 3


async def test_customers_page_size_is_capped_at_100(portal: Portal, acme: NewBusiness) -> None:
    scope = Scope(acme.business.id, Mode.TEST)
    for i in range(101):
        await create_customer_directly(scope, email=f"bulk{i:03}@example.com")

    key = acme.test_api_key
    data = await portal.gql(CUSTOMERS, {"first": 500}, token=key)
    first_page = data["customers"]
    assert len(first_page["edges"]) == 100
    assert first_page["totalCount"] == 101
    assert first_page["pageInfo"]["hasNextPage"] is True

    after = first_page["pageInfo"]["endCursor"]
    data = await portal.gql(CUSTOMERS, {"first": 500, "after": after}, token=key)
    rest = data["customers"]
    assert len(rest["edges"]) == 1
    assert rest["pageInfo"]["hasNextPage"] is False
    emails = {edge["node"]["email"] for edge in first_page["edges"] + rest["edges"]}
    assert emails == {f"bulk{i:03}@example.com" for i in range(101)}

    default = await portal.gql(CUSTOMERS, {}, token=key)
    assert len(default["customers"]["edges"]) == 20


async def test_customers_rejects_bad_cursor_and_negative_first(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    await create_customer(portal.gql, key, "ada@example.com")
    for cursor in ("not-a-cursor", "%%%", "MjAyNC0wMS0wMXw", "bm9waXBl"):
        error = await portal.gql.error(CUSTOMERS, {"first": 2, "after": cursor}, token=key)
        assert code_of(error) == "BAD_USER_INPUT", (cursor, error)
        assert "cursor" in error["message"].lower()
    error = await portal.gql.error(CUSTOMERS, {"first": -1}, token=key)
    assert code_of(error) == "BAD_USER_INPUT"
    assert "first" in error["message"]


# business and node


async def test_business_has_the_static_login_link_for_the_keys_mode(
    portal: Portal, acme: NewBusiness
) -> None:
    business_id = acme.business.id
    test = (await portal.gql(BUSINESS, token=acme.test_api_key))["business"]
    assert test == {
        "id": business_id,
        "name": "Acme GmbH",
        "supportEmail": "support@acme.example",
        "portalLoginUrl": f"http://portal.test/test/login/{business_id}",
    }
    live = (await portal.gql(BUSINESS, token=acme.live_api_key))["business"]
    assert live == {**test, "portalLoginUrl": f"http://portal.test/login/{business_id}"}

    # The link is the page it claims to be.
    for url in (test["portalLoginUrl"], live["portalLoginUrl"]):
        page = await portal.http.get(url.removeprefix("http://portal.test"))
        assert page.status_code == 200, url


async def test_node_resolves_own_customer_and_business(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "ada@example.com", "Ada")
    customer = (await portal.gql(NODE, {"id": customer_id}, token=key))["node"]
    assert customer == {
        "__typename": "Customer",
        "id": customer_id,
        "email": "ada@example.com",
        "name": "Ada",
    }
    business = (await portal.gql(NODE, {"id": acme.business.id}, token=key))["node"]
    assert business == {
        "__typename": "Business",
        "id": acme.business.id,
        "businessName": "Acme GmbH",
        "supportEmail": "support@acme.example",
    }


# createCustomerPortalSession


async def test_portal_session_link_for_each_mode(portal: Portal, acme: NewBusiness) -> None:
    test_id = await create_customer(portal.gql, acme.test_api_key, "ada@example.com")
    live_id = await create_customer(portal.gql, acme.live_api_key, "ada@example.com")
    clock.freeze()
    issued_at = clock.now()

    links: list[str] = []
    for key, customer_id, prefix in (
        (acme.test_api_key, test_id, "http://portal.test/test/session/"),
        (acme.live_api_key, live_id, "http://portal.test/session/"),
    ):
        data = await portal.gql(
            CREATE_PORTAL_SESSION, {"input": {"customerId": customer_id}}, token=key
        )
        payload = data["createCustomerPortalSession"]
        assert payload["userErrors"] == []
        link = payload["portalSession"]["link"]
        assert link.startswith(prefix), link
        token = link.removeprefix(prefix)
        assert re.fullmatch(r"[A-Za-z0-9_\-]{43,}", token), link
        expires_at = datetime.fromisoformat(payload["portalSession"]["expiresAt"])
        assert abs(expires_at - (issued_at + timedelta(hours=24))) < timedelta(seconds=1)
        links.append(link)

        signed_in = await portal.gql(SIGN_IN, {"input": {"token": token_of(link)}})
        assert signed_in["signIn"]["userErrors"] == []
        assert signed_in["signIn"]["customer"]["id"] == customer_id
    assert links[0].rsplit("/", 1)[1] != links[1].rsplit("/", 1)[1]


async def test_portal_session_rejects_unsafe_return_url(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "ada@example.com")
    for bad in ("javascript:alert(1)", "/account", "ftp://acme.example/", "https://"):
        data = await portal.gql(
            CREATE_PORTAL_SESSION,
            {"input": {"customerId": customer_id, "returnUrl": bad}},
            token=key,
        )
        payload = data["createCustomerPortalSession"]
        assert codes(payload) == [("INVALID_URL", ["returnUrl"])], bad
        assert payload["portalSession"] is None


# Credentials


MERCHANT_OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("customers", CUSTOMERS, {}),
    ("customer", CUSTOMER, {"id": "<customer>"}),
    ("createCustomer", CREATE_CUSTOMER, {"input": {"email": "intruder@example.com"}}),
    ("createCustomerPortalSession", CREATE_PORTAL_SESSION, {"input": {"customerId": "<customer>"}}),
    ("updateCustomer", UPDATE_CUSTOMER, {"input": {"customerId": "<customer>", "name": "Pwned"}}),
]


def with_customer(variables: dict[str, Any], customer_id: str) -> dict[str, Any]:
    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return customer_id if value == "<customer>" else value

    return dict(fill(variables))


async def assert_untouched(portal: Portal, acme: NewBusiness, customer_id: str) -> None:
    key = acme.test_api_key
    stored = await read_customer(portal.gql, key, customer_id)
    assert (stored["email"], stored["name"]) == ("ada@example.com", "Ada")
    assert await customers_with_email(portal.gql, key, "intruder@example.com") == []
    assert await total_customers(portal.gql, key) == 1


async def test_merchant_operations_need_a_valid_api_key(portal: Portal, acme: NewBusiness) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "ada@example.com", "Ada")
    headers_list: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer sk_test_nope"},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer sk_live_{secrets.token_urlsafe(32)}"},
        {"Authorization": f"Bearer sk_test_{secrets.token_urlsafe(32)}"},
        {"Authorization": f"Basic {acme.test_api_key}"},
        {"Authorization": acme.test_api_key},
        # A key of one mode dressed up as the other.
        {"Authorization": "Bearer " + acme.test_api_key.replace("sk_test_", "sk_live_", 1)},
    ]
    for headers in headers_list:
        for name, query, variables in [*MERCHANT_OPERATIONS, ("business", BUSINESS, {})]:
            response = await portal.http.post(
                "/graphql",
                json={"query": query, "variables": with_customer(variables, customer_id)},
                headers=headers,
            )
            body = response.json()
            assert body.get("errors"), (name, headers, body)
            assert code_of(body["errors"][0]) == "UNAUTHENTICATED", (name, headers, body)
            assert not (body.get("data") or {}).get(name), (name, headers, body)
    await assert_untouched(portal, acme, customer_id)


async def test_revoked_api_key_is_refused(portal: Portal, acme: NewBusiness) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "ada@example.com", "Ada")
    assert (await portal.gql(BUSINESS, token=acme.live_api_key))["business"]["id"]
    await ApiKey.filter(business_id=acme.business.id, mode=Mode.LIVE).update(revoked_at=clock.now())

    for name, query, variables in MERCHANT_OPERATIONS:
        error = await portal.gql.error(
            query, with_customer(variables, customer_id), token=acme.live_api_key
        )
        assert code_of(error) == "UNAUTHENTICATED", (name, error)
    # The other mode's key is a key of its own and keeps working.
    await assert_untouched(portal, acme, customer_id)


async def test_portal_session_cannot_use_merchant_operations(
    portal: Portal, acme: NewBusiness
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "ada@example.com", "Ada")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    assert (await portal.gql(ME, token=session))["me"]["id"] == customer_id

    for name, query, variables in MERCHANT_OPERATIONS:
        error = await portal.gql.error(query, with_customer(variables, customer_id), token=session)
        assert code_of(error) == "UNAUTHENTICATED", (name, error)
    await assert_untouched(portal, acme, customer_id)

    # And an API key is not a customer.
    error = await portal.gql.error(ME, token=acme.test_api_key)
    assert code_of(error) == "UNAUTHENTICATED"
