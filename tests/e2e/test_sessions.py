"""Portal sessions: the JWT a customer gets from `signIn`, checked on every request. Forged,
altered, expired and revoked tokens are all simply not signed in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from conftest import Portal
from models.clock import clock
from services.businesses import NewBusiness
from services.crypto import derive_key
from support import DASHBOARD, code_of, create_customer, recorded_statements, session_for

ME = "{ me { id email } }"
SIGN_OUT = "mutation { signOut { userErrors { code } } }"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token we were given, read without checking anything."""
    return dict(jwt.decode(token, options={"verify_signature": False}))


def session_key(portal: Portal) -> bytes:
    return derive_key(portal.settings.secret_key, "portal-session-jwt")


def hand_made(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWS built byte by byte, so the header can say whatever an attacker wants."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = (
        b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    )
    return f"{signing_input}.{signature}"


async def assert_signed_out(portal: Portal, token: str) -> None:
    """`me` alone, the dashboard (both read the session row in the statement that reads their
    data, schema/compiled_queries.py) and a query that is not compiled are all refused."""
    for query in (ME, DASHBOARD, "{ me { id licenseKeys { totalCount } } }"):
        error = await portal.gql.error(query, token=token)
        assert code_of(error) == "UNAUTHENTICATED", (query, error)
        assert "data" not in error


async def signed_in(portal: Portal, acme: NewBusiness, email: str) -> tuple[str, str]:
    customer_id = await create_customer(portal.gql, acme.test_api_key, email)
    token = await session_for(portal.gql, acme.test_api_key, customer_id)
    portal.http.cookies.clear()  # signIn set the cookie on the client; send it only on purpose
    return customer_id, token


async def test_a_valid_session_is_the_customer(portal: Portal, acme: NewBusiness) -> None:
    customer_id, token = await signed_in(portal, acme, "ann@example.com")
    data = await portal.gql(ME, token=token)
    assert data["me"] == {"id": customer_id, "email": "ann@example.com"}
    claims = claims_of(token)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["sub"] == customer_id
    assert claims["aud"] == "customer-portal"
    assert claims["iss"] == portal.settings.public_url
    assert claims["sid"].startswith("ses_")

    # The same claims, correctly re-signed by us, are accepted: the tests below change one
    # thing at a time against a baseline that works.
    resigned = jwt.encode(claims, session_key(portal), algorithm="HS256")
    assert (await portal.gql(ME, token=resigned))["me"]["id"] == customer_id

    # The session row is read with `me`'s data (one statement), or first for anything else:
    # a list by status is not compiled, a license key list is not either.
    with recorded_statements() as statements:
        await portal.gql(ME, token=token)
    assert len(statements) == 1, statements
    for query in (
        "{ me { subscriptions(status: ACTIVE) { edges { node { id } } } } }",
        "{ me { licenseKeys { totalCount } } }",
    ):
        assert (await portal.gql(query, token=token))["me"], query


async def test_unsigned_token_with_alg_none_is_refused(portal: Portal, acme: NewBusiness) -> None:
    _, token = await signed_in(portal, acme, "ben@example.com")
    claims = claims_of(token)
    for alg in ("none", "None", "NONE"):
        forged = hand_made({"alg": alg, "typ": "JWT"}, claims, key=None)
        assert forged.endswith(".")
        await assert_signed_out(portal, forged)
    await portal.gql(ME, token=token)  # the real one still works


async def test_token_signed_with_another_key_is_refused(portal: Portal, acme: NewBusiness) -> None:
    _, token = await signed_in(portal, acme, "cara@example.com")
    claims = claims_of(token)
    other_secret = derive_key("another-secret-" + "y" * 40, "portal-session-jwt")
    await assert_signed_out(portal, jwt.encode(claims, other_secret, algorithm="HS256"))
    # The server secret itself (not the derived per-purpose key) does not sign sessions either.
    raw_secret = portal.settings.secret_key.encode()
    await assert_signed_out(portal, jwt.encode(claims, raw_secret, algorithm="HS256"))
    # A flipped signature byte.
    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    await assert_signed_out(portal, f"{head}.{body}.{flipped}")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"exp": None}, id="without-exp"),
        pytest.param({"iat": None}, id="without-iat"),
        pytest.param({"sid": None}, id="without-sid"),
        pytest.param({"aud": "merchant-dashboard"}, id="other-aud"),
        pytest.param({"aud": None}, id="without-aud"),
        pytest.param({"iss": "https://evil.example"}, id="other-iss"),
        pytest.param({"iss": None}, id="without-iss"),
        pytest.param({"exp": "9999999999"}, id="exp-as-string"),
    ],
)
async def test_token_with_wrong_claims_is_refused_even_when_correctly_signed(
    portal: Portal, acme: NewBusiness, change: dict[str, Any]
) -> None:
    _, token = await signed_in(portal, acme, "dan@example.com")
    claims = claims_of(token)
    for name, value in change.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    forged = jwt.encode(claims, session_key(portal), algorithm="HS256")
    await assert_signed_out(portal, forged)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_algorithm_is_pinned_to_hs256(portal: Portal, acme: NewBusiness) -> None:
    _, token = await signed_in(portal, acme, "eve@example.com")
    claims = claims_of(token)
    key = session_key(portal)
    # The right key, but another HMAC algorithm.
    await assert_signed_out(portal, jwt.encode(claims, key, algorithm="HS512"))
    await assert_signed_out(portal, jwt.encode(claims, key, algorithm="HS384"))
    # A header claiming RS256 / ES256 over an HMAC-SHA256 made with the right key: the
    # classic algorithm-confusion forgery.
    for alg in ("RS256", "ES256", "PS256"):
        await assert_signed_out(portal, hand_made({"alg": alg, "typ": "JWT"}, claims, key))
    # Control: the hand-made HS256 token with the same key is accepted, so the refusals above
    # are about the algorithm, not about how the token was built.
    ok = hand_made({"alg": "HS256", "typ": "JWT"}, claims, key)
    assert (await portal.gql(ME, token=ok))["me"]["id"] == claims["sub"]


async def test_session_expires_after_its_ttl(portal: Portal, acme: NewBusiness) -> None:
    clock.freeze()
    _, token = await signed_in(portal, acme, "fay@example.com")
    ttl = portal.settings.session_ttl_seconds
    clock.advance(timedelta(seconds=ttl - 60))
    await portal.gql(ME, token=token)
    clock.advance(timedelta(seconds=61))
    await assert_signed_out(portal, token)

    # A longer exp re-signed with the right key does not extend the session: the row decides.
    claims = claims_of(token)
    claims["exp"] = claims["exp"] + 24 * 3600
    await assert_signed_out(portal, jwt.encode(claims, session_key(portal), algorithm="HS256"))


async def test_sign_out_ends_the_session_and_clears_the_cookie(
    portal: Portal, acme: NewBusiness
) -> None:
    customer_id, token = await signed_in(portal, acme, "gus@example.com")
    _, other_token = await signed_in(portal, acme, "gus2@example.com")
    # A second session of the same customer (another device).
    second = await session_for(portal.gql, acme.test_api_key, customer_id)
    portal.http.cookies.clear()
    assert second != token

    response = await portal.gql.raw(SIGN_OUT, token=token)
    assert response.status_code == 200
    assert response.json() == {"data": {"signOut": {"userErrors": []}}}
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("portal_session=")
    assert "Max-Age=0" in cookie or "expires=Thu, 01 Jan 1970" in cookie, cookie

    await assert_signed_out(portal, token)
    # Signing out once more with the dead token is not a success either.
    error = await portal.gql.error(SIGN_OUT, token=token)
    assert code_of(error) == "UNAUTHENTICATED"
    # Only that session ended.
    assert (await portal.gql(ME, token=second))["me"]["id"] == customer_id
    await portal.gql(ME, token=other_token)


async def test_session_id_of_another_customer_is_refused(portal: Portal, acme: NewBusiness) -> None:
    mine, my_token = await signed_in(portal, acme, "hal@example.com")
    theirs, their_token = await signed_in(portal, acme, "ida@example.com")
    claims = claims_of(my_token)
    claims["sid"] = claims_of(their_token)["sid"]
    await assert_signed_out(portal, jwt.encode(claims, session_key(portal), algorithm="HS256"))
    # Nor the other way round: their sub with my session.
    claims = claims_of(my_token)
    claims["sub"] = theirs
    await assert_signed_out(portal, jwt.encode(claims, session_key(portal), algorithm="HS256"))
    assert (await portal.gql(ME, token=my_token))["me"]["id"] == mine


async def test_merchant_style_garbage_is_not_signed_in(portal: Portal) -> None:
    for token in ("x", "a.b.c", "sk_test_" + "0" * 40, "x" * 5000):
        await assert_signed_out(portal, token)
    response = await portal.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": "Basic Zm9vOmJhcg=="}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_cookie_works_for_get_and_json_post_but_not_for_forms(
    portal: Portal, acme: NewBusiness
) -> None:
    customer_id, token = await signed_in(portal, acme, "jon@example.com")
    cookie = {"Cookie": f"portal_session={token}"}

    got = await portal.http.get("/graphql", params={"query": "{me{id}}"}, headers=cookie)
    assert got.status_code == 200, got.text
    assert got.json() == {"data": {"me": {"id": customer_id}}}

    posted = await portal.http.post("/graphql", json={"query": "{me{id}}"}, headers=cookie)
    assert posted.json() == {"data": {"me": {"id": customer_id}}}

    # What a cross-site <form> can send carries the cookie, so the cookie must not count there.
    for content_type, body in (
        ("application/x-www-form-urlencoded", "query=%7Bme%7Bid%7D%7D"),
        ("text/plain", json.dumps({"query": "{me{id}}"})),
        (
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{me{id}}\r\n--b--\r\n',
        ),
    ):
        response = await portal.http.post(
            "/graphql", content=body, headers={**cookie, "Content-Type": content_type}
        )
        assert customer_id not in response.text, (content_type, response.text)
        if response.status_code == 200:
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        else:
            assert 400 <= response.status_code < 500, response.status_code

    # No cookie at all: anonymous.
    anonymous = await portal.http.get("/graphql", params={"query": "{me{id}}"})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_bearer_token_is_not_overridden_by_a_good_cookie(
    portal: Portal, acme: NewBusiness
) -> None:
    _, token = await signed_in(portal, acme, "kim@example.com")
    response = await portal.http.post(
        "/graphql",
        json={"query": ME},
        headers={"Cookie": f"portal_session={token}", "Authorization": "Bearer nonsense"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
