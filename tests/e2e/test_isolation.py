"""Tenants and modes never mix: to a caller, another business's objects and the other mode's
objects do not exist, for every operation, exactly like ids that were never issued."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from conftest import Portal
from services.businesses import NewBusiness
from support import (
    CREATE_CUSTOMER,
    CREATE_PORTAL_SESSION,
    GraphQLClient,
    code_of,
    session_for,
)

CUSTOMER = """
query($id: ID!) {
  customer(id: $id) { id email name phoneNumber }
}"""

CUSTOMERS = """
query($email: String) {
  customers(first: 100, email: $email) {
    totalCount
    edges { node { id email } }
  }
}"""

UPDATE_CUSTOMER = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    customer { id email name phoneNumber }
    userErrors { code field message }
  }
}"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Customer { email }
    ... on Business { businessName: name }
  }
}"""

ME = "{ me { id email } business { id name portalLoginUrl } }"
BUSINESS = "{ business { id name } }"

MISSING_CUSTOMER = "cus_" + "0" * 24
MISSING_BUSINESS = "bus_" + "0" * 24


@dataclass(frozen=True)
class Someone:
    id: str
    email: str
    name: str
    phone: str
    owner_key: str  # the API key that may see it

    def as_returned(self) -> dict[str, str]:
        return {"id": self.id, "email": self.email, "name": self.name, "phoneNumber": self.phone}


@dataclass(frozen=True)
class World:
    acme: NewBusiness
    globex: NewBusiness
    callers: dict[str, str]  # label -> bearer token
    customers: dict[str, Someone]  # label -> customer

    def scope_of(self, caller: str) -> set[str]:
        """The ids of the customers a merchant caller owns."""
        return {c.id for c in self.customers.values() if c.owner_key == self.callers[caller]}


async def make_customer(gql: GraphQLClient, key: str, email: str, name: str, phone: str) -> Someone:
    data = await gql(
        CREATE_CUSTOMER, {"input": {"email": email, "name": name, "phoneNumber": phone}}, token=key
    )
    assert data["createCustomer"]["userErrors"] == []
    return Someone(data["createCustomer"]["customer"]["id"], email, name, phone, key)


@pytest.fixture
async def world(portal: Portal, acme: NewBusiness, globex: NewBusiness) -> World:
    gql = portal.gql
    customers = {
        "acme test": await make_customer(
            gql, acme.test_api_key, "ann@acme.example", "Ann", "+4915123456789"
        ),
        "acme test other": await make_customer(
            gql, acme.test_api_key, "otto@acme.example", "Otto", "+4930123456"
        ),
        "acme live": await make_customer(
            gql, acme.live_api_key, "lena@acme.example", "Lena", "+14155552671"
        ),
        "globex test": await make_customer(
            gql, globex.test_api_key, "gus@globex.example", "Gus", "+442071838750"
        ),
        "globex live": await make_customer(
            gql, globex.live_api_key, "liv@globex.example", "Liv", "+33612345678"
        ),
    }
    callers = {
        "acme test key": acme.test_api_key,
        "acme live key": acme.live_api_key,
        "globex test key": globex.test_api_key,
        "acme test session": await session_for(gql, acme.test_api_key, customers["acme test"].id),
        "acme live session": await session_for(gql, acme.live_api_key, customers["acme live"].id),
    }
    return World(acme, globex, callers, customers)


# (merchant caller, a customer it must not see)
MERCHANT_CROSSINGS = [
    pytest.param("globex test key", "acme test", id="other-business"),
    pytest.param("acme test key", "globex test", id="other-business-reverse"),
    pytest.param("globex test key", "acme live", id="other-business-other-mode"),
    pytest.param("acme live key", "acme test", id="live-key-test-customer"),
    pytest.param("acme test key", "acme live", id="test-key-live-customer"),
]

# (portal session, a customer it must not see)
SESSION_CROSSINGS = [
    pytest.param("acme test session", "acme test other", id="same-business-other-customer"),
    pytest.param("acme test session", "acme live", id="test-session-live-customer"),
    pytest.param("acme live session", "acme test", id="live-session-test-customer"),
    pytest.param("acme test session", "globex test", id="session-other-business"),
]


async def assert_unchanged(portal: Portal, someone: Someone) -> None:
    data = await portal.gql(CUSTOMER, {"id": someone.id}, token=someone.owner_key)
    assert data["customer"] == someone.as_returned()


@pytest.mark.parametrize(("caller", "target"), MERCHANT_CROSSINGS)
async def test_customer_query_is_not_found(
    portal: Portal, world: World, caller: str, target: str
) -> None:
    someone = world.customers[target]
    error = await portal.gql.error(CUSTOMER, {"id": someone.id}, token=world.callers[caller])
    assert code_of(error) == "NOT_FOUND", error
    assert someone.email not in str(error)
    # The owner still sees it: the object exists, it just is not the caller's.
    await assert_unchanged(portal, someone)


@pytest.mark.parametrize(("caller", "target"), MERCHANT_CROSSINGS + SESSION_CROSSINGS)
async def test_node_is_not_found(portal: Portal, world: World, caller: str, target: str) -> None:
    someone = world.customers[target]
    error = await portal.gql.error(NODE, {"id": someone.id}, token=world.callers[caller])
    assert code_of(error) == "NOT_FOUND", error
    assert someone.email not in str(error)


@pytest.mark.parametrize(("caller", "target"), MERCHANT_CROSSINGS)
async def test_update_customer_is_not_found_and_changes_nothing(
    portal: Portal, world: World, caller: str, target: str
) -> None:
    someone = world.customers[target]
    changes = {"email": "taken-over@evil.example", "name": "Mallory", "phoneNumber": None}
    data = await portal.gql(
        UPDATE_CUSTOMER,
        {"input": {"customerId": someone.id, **changes}},
        token=world.callers[caller],
    )
    payload = data["updateCustomer"]
    assert payload["customer"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"], payload
    await assert_unchanged(portal, someone)
    # Nor did the attempt create anything on the caller's side.
    found = await portal.gql(
        CUSTOMERS, {"email": "taken-over@evil.example"}, token=world.callers[caller]
    )
    assert found["customers"]["totalCount"] == 0


@pytest.mark.parametrize(("caller", "target"), MERCHANT_CROSSINGS)
async def test_portal_session_for_someone_elses_customer_is_not_found(
    portal: Portal, world: World, caller: str, target: str
) -> None:
    someone = world.customers[target]
    data = await portal.gql(
        CREATE_PORTAL_SESSION,
        {"input": {"customerId": someone.id, "returnUrl": "https://evil.example/"}},
        token=world.callers[caller],
    )
    payload = data["createCustomerPortalSession"]
    assert payload["portalSession"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"], payload


@pytest.mark.parametrize(("caller", "target"), MERCHANT_CROSSINGS)
async def test_customers_list_leaves_out_someone_elses_customer(
    portal: Portal, world: World, caller: str, target: str
) -> None:
    someone = world.customers[target]
    token = world.callers[caller]
    everyone = (await portal.gql(CUSTOMERS, {}, token=token))["customers"]
    listed = {edge["node"]["id"] for edge in everyone["edges"]}
    assert someone.id not in listed
    assert listed == world.scope_of(caller)
    assert everyone["totalCount"] == len(world.scope_of(caller))

    for email in (someone.email, someone.email.upper()):
        by_email = (await portal.gql(CUSTOMERS, {"email": email}, token=token))["customers"]
        assert by_email == {"totalCount": 0, "edges": []}, email


async def test_each_merchant_key_lists_exactly_its_own_customers(
    portal: Portal, world: World
) -> None:
    for caller in ("acme test key", "acme live key", "globex test key"):
        token = world.callers[caller]
        data = (await portal.gql(CUSTOMERS, {}, token=token))["customers"]
        assert {edge["node"]["id"] for edge in data["edges"]} == world.scope_of(caller), caller
        for someone in world.customers.values():
            found = (await portal.gql(CUSTOMERS, {"email": someone.email}, token=token))[
                "customers"
            ]
            expected = [someone.id] if someone.owner_key == token else []
            assert [edge["node"]["id"] for edge in found["edges"]] == expected, (caller, someone)


async def test_node_of_another_business_is_not_found(portal: Portal, world: World) -> None:
    acme_id, globex_id = world.acme.business.id, world.globex.business.id
    for caller, foreign, own in (
        ("acme test key", globex_id, acme_id),
        ("acme live key", globex_id, acme_id),
        ("globex test key", acme_id, globex_id),
        ("acme test session", globex_id, acme_id),
    ):
        token = world.callers[caller]
        error = await portal.gql.error(NODE, {"id": foreign}, token=token)
        assert code_of(error) == "NOT_FOUND", (caller, error)
        missing = await portal.gql.error(NODE, {"id": MISSING_BUSINESS}, token=token)
        assert error == missing, caller
        mine = (await portal.gql(NODE, {"id": own}, token=token))["node"]
        assert (mine["__typename"], mine["id"]) == ("Business", own), caller
        business = (await portal.gql(BUSINESS, token=token))["business"]
        assert business["id"] == own, caller


async def test_portal_session_sees_only_its_own_customer(portal: Portal, world: World) -> None:
    ann = world.customers["acme test"]
    session = world.callers["acme test session"]
    acme_id = world.acme.business.id

    data = await portal.gql(ME, token=session)
    assert data["me"] == {"id": ann.id, "email": ann.email}
    assert data["business"] == {
        "id": acme_id,
        "name": "Acme GmbH",
        "portalLoginUrl": f"http://portal.test/test/login/{acme_id}",
    }

    me = (await portal.gql(NODE, {"id": ann.id}, token=session))["node"]
    assert me == {"__typename": "Customer", "id": ann.id, "email": ann.email}
    own_business = (await portal.gql(NODE, {"id": acme_id}, token=session))["node"]
    assert own_business == {"__typename": "Business", "id": acme_id, "businessName": "Acme GmbH"}

    for label in ("acme test other", "acme live", "globex test", "globex live"):
        error = await portal.gql.error(NODE, {"id": world.customers[label].id}, token=session)
        assert code_of(error) == "NOT_FOUND", (label, error)

    # A live session is just as confined.
    lena = world.customers["acme live"]
    live = await portal.gql(ME, token=world.callers["acme live session"])
    assert live["me"] == {"id": lena.id, "email": lena.email}
    assert live["business"]["portalLoginUrl"] == f"http://portal.test/login/{acme_id}"


async def test_not_found_looks_the_same_for_missing_and_foreign_ids(
    portal: Portal, world: World
) -> None:
    """Nothing in the answer tells a caller that someone else's id exists."""
    cases: list[tuple[str, str]] = [
        ("globex test key", "acme test"),
        ("acme live key", "acme test"),
        ("acme test key", "acme live"),
        ("acme test key", "globex test"),
        ("acme test session", "acme test other"),
        ("acme test session", "acme live"),
        ("acme test session", "globex test"),
    ]
    for caller, target in cases:
        token = world.callers[caller]
        foreign = world.customers[target].id
        context = (caller, target)

        queries: list[tuple[str, str, dict[str, Any]]] = [("node", NODE, {})]
        if caller.endswith("key"):
            queries.append(("customer", CUSTOMER, {}))
        for name, query, _ in queries:
            theirs = await portal.gql.error(query, {"id": foreign}, token=token)
            nobodys = await portal.gql.error(query, {"id": MISSING_CUSTOMER}, token=token)
            assert code_of(theirs) == "NOT_FOUND", (name, context, theirs)
            assert theirs == nobodys, (name, context)

        if not caller.endswith("key"):
            continue
        mutations: list[tuple[str, str, dict[str, Any]]] = [
            ("updateCustomer", UPDATE_CUSTOMER, {"name": "Mallory"}),
            ("createCustomerPortalSession", CREATE_PORTAL_SESSION, {}),
        ]
        for name, mutation, extra in mutations:
            theirs = await portal.gql(
                mutation, {"input": {"customerId": foreign, **extra}}, token=token
            )
            nobodys = await portal.gql(
                mutation, {"input": {"customerId": MISSING_CUSTOMER, **extra}}, token=token
            )
            assert theirs == nobodys, (name, context)
            [error] = theirs[name]["userErrors"]
            assert error["code"] == "NOT_FOUND", (name, context)
        await assert_unchanged(portal, world.customers[target])


async def test_not_found_for_malformed_ids(portal: Portal, world: World) -> None:
    for caller in ("acme test key", "acme test session"):
        token = world.callers[caller]
        for bad in ("nope", "cus_", "_", "sub_" + "0" * 24, "x" * 300):
            error = await portal.gql.error(NODE, {"id": bad}, token=token)
            assert code_of(error) == "NOT_FOUND", (caller, bad, error)
