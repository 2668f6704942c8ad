"""What `/graphql` refuses and how: too deep, too many aliases or tokens, too large a body,
broken documents and variables, introspection and GraphiQL in production, mutations over GET,
and unexpected failures that must not leak their details."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import strawberry
from tortoise import connections

from conftest import Portal, make_portal
from models import Customer
from schema.extensions import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, schema_extensions
from services.businesses import NewBusiness
from support import code_of, create_customer

CUSTOMERS = "{ customers(first: 5) { totalCount edges { node { id email } } } }"


def nested(depth: int, leaf: str = "id") -> str:
    """`{ child { child { … leaf … } } }` with `depth` fields on the deepest path."""
    assert depth >= 1
    return "{ " + "child { " * (depth - 1) + leaf + " }" * (depth - 1) + " }"


@strawberry.type
class Tree:
    """A schema that can nest without end, served with the app's own extensions, because the
    portal's schema has no path deeper than four fields."""

    id: strawberry.ID = strawberry.ID("t")

    @strawberry.field
    def child(self) -> Tree:
        return Tree()


def tree_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Tree, extensions=schema_extensions())


def codes(result: Any) -> list[str | None]:
    return [(error.extensions or {}).get("code") for error in result.errors or []]


async def test_depth_limit_counts_fields_through_fragments() -> None:
    schema = tree_schema()
    ok = await schema.execute(nested(MAX_DEPTH))
    assert ok.errors is None
    assert ok.data is not None

    deep = await schema.execute(nested(MAX_DEPTH + 1))
    assert codes(deep) == ["QUERY_TOO_COMPLEX"]
    assert deep.data is None
    assert f"{MAX_DEPTH + 1} levels deep; at most {MAX_DEPTH}" in deep.errors[0].message

    # Inline fragments add no depth, named fragments are followed.
    inline = "{ child { ... on Tree { child { ... on Tree { id } } } } }"
    assert (await schema.execute(inline)).errors is None
    seven = "child { " * 6 + "id" + " }" * 6  # 7 levels
    at_limit = (
        "query Deep { child { ...A } }\n"
        "fragment A on Tree { child { ...B } }\n"
        f"fragment B on Tree {{ child {{ {seven} }} }}"
    )  # child (1) + A's child (1) + B's child (1) + 7 = 10
    assert (await schema.execute(at_limit)).errors is None
    too_deep = (
        "query Deep { child { ...A } }\n"
        "fragment A on Tree { child { ...B } }\n"
        f"fragment B on Tree {{ child {{ child {{ {seven} }} }} }}"
    )  # child (1) + A's child (1) + B's two (2) + 7 = 11
    result = await schema.execute(too_deep)
    assert codes(result) == ["QUERY_TOO_COMPLEX"]
    assert "'Deep' is 11 levels deep" in result.errors[0].message


async def test_introspection_fields_do_not_count_and_cycles_do_not_hang() -> None:
    schema = tree_schema()
    # Ten real levels, plus an introspection subtree seven levels deep at the bottom.
    introspection = (
        '__type(name: "Tree") { fields { type { ofType { ofType { ofType { name } } } } } }'
    )
    deep_introspection = nested(MAX_DEPTH, leaf=f"id {introspection}")
    result = await schema.execute(deep_introspection)
    assert result.errors is None, result.errors
    cyclic = "{ child { ...A } } fragment A on Tree { child { ...A } }"
    result = await schema.execute(cyclic)
    assert result.errors
    assert "QUERY_TOO_COMPLEX" not in codes(result)  # reported as a cycle, not a depth
    assert "BAD_USER_INPUT" in codes(result)


async def test_too_deep_a_document_is_refused_by_the_portal(
    portal: Portal, acme: NewBusiness
) -> None:
    # No real path of the portal is this deep; the depth rule still answers first.
    deep = "{ customers { edges { node { " + "x { " * 9 + "id" + " }" * 9 + " } } } }"
    response = await portal.gql.raw(deep, token=acme.test_api_key)
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", errors
    assert "data" not in response.json() or response.json()["data"] is None


async def test_alias_limit(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    at_limit = "{ " + " ".join(f"a{i}: business {{ id }}" for i in range(MAX_ALIASES)) + " }"
    data = await portal.gql(at_limit, token=key)
    assert len(data) == MAX_ALIASES and data["a0"]["id"] == acme.business.id

    over = "{ " + " ".join(f"a{i}: business {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    error = await portal.gql.error(over, token=key)
    assert code_of(error) == "QUERY_TOO_COMPLEX"
    assert f"{MAX_ALIASES + 1} aliases" in error["message"]

    # Aliases hidden in fragments count too.
    fragments = (
        "{ business { ...F } } fragment F on Business { "
        + " ".join(f"n{i}: name" for i in range(MAX_ALIASES + 1))
        + " }"
    )
    assert code_of(await portal.gql.error(fragments, token=key)) == "QUERY_TOO_COMPLEX"


async def test_alias_limit_stops_a_mutation_before_it_runs(
    portal: Portal, acme: NewBusiness
) -> None:
    batch = " ".join(
        f'c{i}: createCustomer(input: {{email: "batch{i}@example.com"}}) '
        "{ userErrors { code } }"
        for i in range(MAX_ALIASES + 1)
    )
    error = await portal.gql.error(f"mutation {{ {batch} }}", token=acme.test_api_key)
    assert code_of(error) == "QUERY_TOO_COMPLEX"
    assert await Customer.all().count() == 0


def many_operations(count: int) -> str:
    """`count` small named operations: 8 tokens each, and cheap to validate."""
    return " ".join(f"query Q{i} {{ business {{ id }} }}" for i in range(count))


async def test_token_limit(portal: Portal, acme: NewBusiness) -> None:
    auth = {"Authorization": f"Bearer {acme.test_api_key}"}
    fits = many_operations(MAX_TOKENS // 8)  # exactly MAX_TOKENS tokens
    response = await portal.http.post(
        "/graphql", json={"query": fits, "operationName": "Q7"}, headers=auth
    )
    assert response.json() == {"data": {"business": {"id": acme.business.id}}}

    over = many_operations(MAX_TOKENS // 8 + 1)
    response = await portal.http.post(
        "/graphql", json={"query": over, "operationName": "Q7"}, headers=auth
    )
    body = response.json()
    assert body.get("data") is None, body
    assert f"more than {MAX_TOKENS} tokens" in body["errors"][0]["message"]
    assert body["errors"][0].get("extensions", {}).get("code") == "QUERY_TOO_COMPLEX", body


async def test_body_over_64_kib_is_413(portal: Portal, acme: NewBusiness) -> None:
    padding = " " * (64 * 1024)
    response = await portal.http.post(
        "/graphql",
        json={"query": "{ business { id } }" + padding},
        headers={"Authorization": f"Bearer {acme.test_api_key}"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"

    # Without a Content-Length (chunked), counted as it arrives.
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "mutation { createCustomer(input: {email: \\"big@example.com\\"}) '
        yield b'{ userErrors { code } } }", "x": "'
        for _ in range(70):
            yield b"y" * 1024
        yield b'"}'

    streamed = await portal.http.post(
        "/graphql",
        content=chunks(),
        headers={
            "Authorization": f"Bearer {acme.test_api_key}",
            "Content-Type": "application/json",
        },
    )
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    assert await Customer.all().count() == 0

    # Just under the limit is served.
    small = "{ business { id } }" + " " * (60 * 1024)
    ok = await portal.gql(small, token=acme.test_api_key)
    assert ok["business"]["id"] == acme.business.id


async def test_syntax_error_says_what_is_wrong(portal: Portal, acme: NewBusiness) -> None:
    response = await portal.gql.raw("{ business { id }", token=acme.test_api_key)
    error = response.json()["errors"][0]
    assert error["message"] == "Syntax Error: Expected Name, found <EOF>.", error
    assert error["locations"] == [{"line": 1, "column": 18}]
    assert error.get("extensions", {}).get("code") == "BAD_USER_INPUT", error


async def test_unknown_field_says_what_is_wrong(portal: Portal, acme: NewBusiness) -> None:
    unknown = await portal.gql.error("{ business { idd } }", token=acme.test_api_key)
    assert code_of(unknown) == "BAD_USER_INPUT"
    assert "Cannot query field 'idd' on type 'Business'" in unknown["message"]


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        pytest.param(
            "query($first: Int) { customers(first: $first) { totalCount } }",
            {"first": "x"},
            "Int cannot represent non-integer value",
            id="string-for-int-variable",
        ),
        pytest.param(
            '{ customers(first: "x") { totalCount } }',
            {},
            "Int cannot represent non-integer value",
            id="string-for-int-literal",
        ),
        pytest.param(
            "query($first: Int) { customers(first: $first) { totalCount } }",
            {"first": 2**40},
            "Int cannot represent non 32-bit signed integer value",
            id="int-overflow",
        ),
        pytest.param(
            "mutation($input: CreateCustomerInput!) "
            "{ createCustomer(input: $input) { userErrors { code } } }",
            {"input": {"name": "No Email"}},
            "to include required field 'email'",
            id="missing-required-input-field",
        ),
        pytest.param(
            "mutation($input: CreateCustomerInput!) "
            "{ createCustomer(input: $input) { userErrors { code } } }",
            {"input": {"email": "x@example.com", "shoeSize": 44}},
            "not to include unknown field 'shoeSize'",
            id="unknown-input-field",
        ),
    ],
)
async def test_wrong_variables_are_bad_user_input(
    portal: Portal, acme: NewBusiness, query: str, variables: dict[str, Any], expected: str
) -> None:
    error = await portal.gql.error(query, variables, token=acme.test_api_key)
    assert expected in error["message"], error["message"]  # says what is wrong, not masked
    assert error.get("extensions", {}).get("code") == "BAD_USER_INPUT", error
    assert await Customer.all().count() == 0


async def test_production_refuses_introspection_and_graphiql(
    portal: Portal, acme: NewBusiness
) -> None:
    production = portal.with_settings(env="production", public_url="https://portal.example")
    http, gql = await make_portal(production)
    async with http:
        for query in (
            "{ __schema { types { name } } }",
            '{ __type(name: "Customer") { fields { name } } }',
            "{ business { id } __schema { queryType { name } } }",
        ):
            response = await gql.raw(query, token=acme.test_api_key)
            body = response.json()
            assert body.get("data") is None, body
            assert "introspection" in body["errors"][0]["message"].lower()
            assert "CreateCustomerInput" not in response.text
        # Ordinary queries, and __typename, still work.
        data = await gql("{ business { __typename id } }", token=acme.test_api_key)
        assert data["business"] == {"__typename": "Business", "id": acme.business.id}

        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert "graphiql" not in page.text.lower()


async def test_development_serves_graphiql_and_introspection(
    portal: Portal, acme: NewBusiness
) -> None:
    page = await portal.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    data = await portal.gql("{ __schema { types { name } } }")
    assert "Customer" in {t["name"] for t in data["__schema"]["types"]}


async def test_queries_over_get_but_not_mutations(portal: Portal, acme: NewBusiness) -> None:
    auth = {"Authorization": f"Bearer {acme.test_api_key}"}
    got = await portal.http.get("/graphql", params={"query": "{business{id}}"}, headers=auth)
    assert got.status_code == 200
    assert got.json() == {"data": {"business": {"id": acme.business.id}}}

    mutation = (
        'mutation { createCustomer(input: {email: "get@example.com"}) { userErrors { code } } }'
    )
    refused = await portal.http.get("/graphql", params={"query": mutation}, headers=auth)
    assert refused.status_code in (400, 405), refused.text
    assert "mutation" in refused.text.lower() and "GET" in refused.text
    assert await Customer.all().count() == 0

    # The same mutation over POST does run (so the refusal above was about GET).
    await create_customer(portal.gql, acme.test_api_key, "post@example.com")
    assert await Customer.all().count() == 1


async def test_unexpected_errors_are_masked(
    portal: Portal, acme: NewBusiness, database_url: str
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "soon-gone@example.com")
    connection = connections.get("default")
    if database_url.startswith("sqlite"):
        await connection.execute_script("PRAGMA foreign_keys = OFF; DROP TABLE customer;")
    else:
        await connection.execute_script("DROP TABLE customer CASCADE")

    response = await portal.gql.raw(CUSTOMERS, token=acme.test_api_key)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    text = response.text.lower()
    for leak in (
        "traceback",
        'customer"',
        "no such table",
        "relation",
        "sql",
        "select",
        "tortoise",
        "operationalerror",
        "exception",
        ".py",
    ):
        assert leak not in text, (leak, response.text)

    # The rest of the API still answers.
    data = await portal.gql("{ business { id } }", token=acme.test_api_key)
    assert data["business"]["id"] == acme.business.id
