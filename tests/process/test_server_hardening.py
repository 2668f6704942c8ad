"""What the running server believes about its clients and what it writes to its log: only
PORTAL_TRUSTED_PROXIES may set the client address, and no token or signature reaches a log."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.process.processes import RunningServer, run_portal, running_server

REQUEST_LINK = """
mutation($input: RequestLoginLinkInput!) {
  requestLoginLink(input: $input) { userErrors { code } }
}"""


def _business(server: RunningServer) -> dict[str, str]:
    created = run_portal(
        server.tmp_path, "create-business", "Initech", "--support-email", "it@initech.de", "--json"
    )
    assert created.returncode == 0, created.stderr
    return dict(json.loads(created.stdout))


def _ask_for_links(server: RunningServer, business_id: str, hops: list[str]) -> list[object]:
    outcomes: list[object] = []
    for hop in hops:
        response = httpx.post(
            f"{server.url}/graphql",
            json={
                "query": REQUEST_LINK,
                "variables": {"input": {"businessId": business_id, "email": f"{hop}@example.com"}},
            },
            headers={"X-Forwarded-For": hop},
        )
        body = response.json()
        outcomes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "ok")
    return outcomes


def test_forwarded_for_is_ignored_without_trusted_proxies(tmp_path: Path) -> None:
    # A local process (or a TLS terminator that is not configured as trusted) sends a new
    # X-Forwarded-For each time: the per-IP limit still counts its real address.
    with running_server(tmp_path, PORTAL_RATE_LIMIT_LOGIN_IP="2/hour") as server:
        business = _business(server)
        hops = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        assert _ask_for_links(server, business["business_id"], hops) == [
            "ok",
            "ok",
            "RATE_LIMITED",
        ]


def test_forwarded_for_is_believed_from_a_trusted_proxy(tmp_path: Path) -> None:
    with running_server(
        tmp_path, PORTAL_RATE_LIMIT_LOGIN_IP="2/hour", PORTAL_TRUSTED_PROXIES="127.0.0.0/8"
    ) as server:
        business = _business(server)
        hops = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.3"]
        assert _ask_for_links(server, business["business_id"], hops) == ["ok"] * 4


def test_no_token_or_signature_reaches_the_log(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        business = _business(server)
        key = business["test_api_key"]
        graphql = f"{server.url}/graphql"
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(
            graphql,
            json={
                "query": 'mutation { createCustomer(input: {email: "log@example.com"}) '
                "{ customer { id } } }"
            },
            headers=headers,
        ).json()
        customer_id = created["data"]["createCustomer"]["customer"]["id"]
        link = httpx.post(
            graphql,
            json={
                "query": "mutation($id: ID!) { createCustomerPortalSession(input: "
                "{customerId: $id}) { portalSession { link } } }",
                "variables": {"id": customer_id},
            },
            headers=headers,
        ).json()["data"]["createCustomerPortalSession"]["portalSession"]["link"]
        token = link.rsplit("/", 1)[1]
        secrets = [token, "confirmtoken0123456789abcdef", "0badc0ffee0123456789abcdef"]
        assert httpx.get(link).status_code == 200  # the landing page (a button, no sign-in)
        httpx.get(f"{server.url}/confirm-email/{secrets[1]}")
        httpx.get(f"{server.url}/test/confirm-email/{secrets[1]}?lang=de")
        httpx.get(f"{server.url}/invoices/inv_x.pdf?expires=9999999999&signature={secrets[2]}")
        httpx.get(f"{server.url}/healthz")
        log = server.log_text()
        access = [line for line in server.log_lines() if line["logger"] == "portal.access"]
    assert any(
        line["method"] == "GET" and line["target"] == "/healthz" and line["status"] == 200
        for line in access
    )  # the access log is written
    assert "/test/session/[redacted]" in log
    assert "signature=[redacted]" in log
    assert "lang=de" in log
    for secret in secrets:
        assert secret not in log


def test_production_server_suggests_nothing_and_sends_hsts(tmp_path: Path) -> None:
    with running_server(
        tmp_path,
        PORTAL_ENV="production",
        PORTAL_SECRET_KEY="production-secret-" + "y" * 40,
        PORTAL_SMTP_URL="smtp://127.0.0.1:2525",
        PORTAL_PUBLIC_URL="https://portal.example",
    ) as server:
        business = _business(server)
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": "{ customerz { id } }"},
            headers={"Authorization": f"Bearer {business['test_api_key']}"},
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "Did you mean" not in response.text
        assert response.headers["strict-transport-security"] == (
            "max-age=63072000; includeSubDomains"
        )
