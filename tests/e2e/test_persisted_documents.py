"""Persisted documents over HTTP: Automatic Persisted Queries as Apollo Client and urql speak
them (a hash the server does not know is PERSISTED_QUERY_NOT_FOUND, the text sent once with its
hash is remembered, then the hash alone runs it, by POST and by GET), a hash that does not
match its text runs nothing, and with trusted documents on only documents a merchant
registered run, whoever sends them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import httpx

from conftest import Portal, make_portal
from models import Business
from services.businesses import NewBusiness
from services.persisted_documents import REGISTER_TRUSTED_DOCUMENTS
from support import create_customer

BUSINESS = "query Business { business { name } }"
RENAME = (
    "mutation Rename($name: String!) { updateBusiness(input: {name: $name})"
    " { business { name } userErrors { code } } }"
)


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


async def post(
    http: httpx.AsyncClient, key: str, body: dict[str, Any], **headers: str
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {key}", **headers}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def code(answer: dict[str, Any]) -> str:
    [error] = answer["errors"]
    return str(error["extensions"]["code"])


async def test_automatic_persisted_queries_by_post_and_get(
    portal: Portal, acme: NewBusiness
) -> None:
    http, key = portal.http, acme.test_api_key
    hashed = {"extensions": persisted(sha(BUSINESS))}

    missing = await post(http, key, hashed)
    assert code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    assert missing["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "data" not in missing

    sent_once = await post(http, key, {"query": BUSINESS, **hashed})
    assert sent_once == {"data": {"business": {"name": "Acme GmbH"}}}
    assert await post(http, key, hashed) == sent_once

    by_get = await http.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(sha(BUSINESS))), "operationName": "Business"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert by_get.status_code == 200 and by_get.json() == sent_once

    # Variables travel beside the hash, as with any document.
    customer_id = await create_customer(portal.gql, key, "apq@example.com", "Apq")
    lookup = "query($id: ID!) { customer(id: $id) { email } }"
    registered = await post(
        http,
        key,
        {"query": lookup, "variables": {"id": customer_id}, "extensions": persisted(sha(lookup))},
    )
    assert registered == {"data": {"customer": {"email": "apq@example.com"}}}
    again = await post(
        http, key, {"variables": {"id": customer_id}, "extensions": persisted(sha(lookup))}
    )
    assert again == registered


async def test_a_hash_that_does_not_match_its_text_runs_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    http, key = portal.http, acme.test_api_key
    lying = {
        "query": RENAME,
        "variables": {"name": "Hijacked"},
        "extensions": persisted(sha(BUSINESS)),
    }
    answer = await post(http, key, lying)
    assert code(answer) == "BAD_USER_INPUT"
    assert (await Business.get(id=acme.business.id)).name == "Acme GmbH"
    # The lie was not remembered under the other document's hash either.
    assert code(await post(http, key, {"extensions": persisted(sha(BUSINESS))})) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    for bad in (
        {"version": 2, "sha256Hash": sha(BUSINESS)},
        {"version": 1, "sha256Hash": "not-a-hash"},
        {"version": 1, "sha256Hash": sha(BUSINESS).upper()},
    ):
        refused = await post(http, key, {"extensions": {"persistedQuery": bad}})
        assert code(refused) == "BAD_USER_INPUT"


async def test_trusted_documents_only_run_what_a_merchant_registered(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    http, _ = await make_portal(replace(portal.settings, trusted_documents=True))
    async with http:
        key = acme.test_api_key
        # Not registered: refused by text, by hash, and by APQ registration alike.
        assert code(await post(http, key, {"query": BUSINESS})) == "DOCUMENT_NOT_TRUSTED"
        assert (
            code(await post(http, key, {"query": RENAME, "variables": {"name": "Evil"}}))
            == "DOCUMENT_NOT_TRUSTED"
        )
        assert (await Business.get(id=acme.business.id)).name == "Acme GmbH"
        assert (
            code(await post(http, key, {"query": BUSINESS, "extensions": persisted(sha(BUSINESS))}))
            == "DOCUMENT_NOT_TRUSTED"
        )
        # Any spelling of JSON Strawberry would take, a batch, or another body: refused too.
        for content_type, raw in (
            ("Application/JSON", json.dumps({"query": BUSINESS})),
            ("application/json", json.dumps([{"query": BUSINESS}])),
            ("text/plain", BUSINESS),
        ):
            sneaked = await http.post(
                "/graphql",
                content=raw,
                headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
            )
            assert code(sneaked.json()) == "DOCUMENT_NOT_TRUSTED", content_type
        strict = await http.post(
            "/graphql",
            json={"query": BUSINESS},
            headers={
                "Authorization": f"Bearer {key}",
                "Accept": "application/graphql-response+json",
            },
        )
        assert strict.status_code == 400
        assert strict.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"

        # The deploy step registers the frontend's documents with the built-in document.
        register = {
            "query": REGISTER_TRUSTED_DOCUMENTS,
            "variables": {"input": {"documents": [BUSINESS, "not graphql {"]}},
        }
        invalid = (await post(http, key, register))["data"]["registerTrustedDocuments"]
        assert invalid["documentIds"] is None
        assert invalid["userErrors"] == [
            {
                "code": "INVALID_DOCUMENT",
                "field": ["documents", "1"],
                "message": "This is not a GraphQL document.",
            }
        ]
        assert code(await post(http, key, {"query": BUSINESS})) == "DOCUMENT_NOT_TRUSTED"
        register["variables"] = {"input": {"documents": [BUSINESS]}}
        done = (await post(http, key, register))["data"]["registerTrustedDocuments"]
        assert done == {"documentIds": [sha(BUSINESS)], "userErrors": []}

        # Now it runs, by text or by hash, for any caller; who sees what is still the key's.
        assert await post(http, key, {"query": BUSINESS}) == {
            "data": {"business": {"name": "Acme GmbH"}}
        }
        by_hash = await post(http, globex.test_api_key, {"extensions": persisted(sha(BUSINESS))})
        assert by_hash == {"data": {"business": {"name": "Globex Inc"}}}
        # Registering it again changes nothing; the registration needs a merchant key.
        assert (await post(http, key, register))["data"]["registerTrustedDocuments"] == done
        anonymous = await http.post("/graphql", json=register)
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
