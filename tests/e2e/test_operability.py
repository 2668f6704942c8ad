"""What an operator relies on, over HTTP: /metrics shows the traffic and the queues after known
work (and only to the holder of PORTAL_METRICS_TOKEN), /readyz says whether the database can
serve, and every response carries its request id."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tortoise import connections

from conftest import Portal, make_portal
from services.businesses import NewBusiness
from support import create_customer, create_product, free_port, subscribe
from tests.e2e.test_webhooks import create_endpoint, deliver, emit

TOKEN = "metrics-token-0123456789abcdef"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def watched(portal: Portal) -> AsyncIterator[Portal]:
    """The portal with /metrics on."""
    settings = portal.with_settings(metrics_token=TOKEN)
    http, gql = await make_portal(settings)
    async with http:
        yield Portal(settings, http, gql)


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def increase(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_metrics_are_off_without_a_token_and_closed_without_the_right_one(
    portal: Portal, watched: Portal
) -> None:
    assert (await portal.http.get("/metrics")).status_code == 404
    assert (await watched.http.get("/metrics")).status_code == 401
    wrong = await watched.http.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert "portal_" not in wrong.text


async def test_a_scrape_after_known_traffic_shows_it(watched: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    gql = watched.gql
    before = await scrape(watched.http)

    for _ in range(3):
        await gql("query MetricsProbe { products(first: 1) { totalCount } }", token=key)
    bad = await gql(
        "mutation BadEmail($input: CreateCustomerInput!) "
        "{ createCustomer(input: $input) { customer { id } userErrors { code } } }",
        {"input": {"email": "not-an-email"}},
        token=key,
    )
    assert bad["createCustomer"]["userErrors"] == [{"code": "INVALID_EMAIL"}]
    broken = await watched.http.post(
        "/graphql",
        json={"query": "query Broken { customerz { id } }"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert broken.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await watched.http.post(
        "/graphql", json={"query": "{ products(first: 1) { totalCount } }"}
    )  # no key: refused
    customer = await create_customer(gql, key, "metrics@example.com")
    product = await create_product(gql, key)
    paid = await subscribe(gql, key, customer, product)
    assert paid["payment"]["status"] == "SUCCEEDED"
    declined = await subscribe(gql, key, customer, product, "4000000000000002")
    assert declined["payment"]["status"] == "FAILED"

    after = await scrape(watched.http)
    latency = "portal_graphql_request_duration_seconds_count"
    assert (
        increase(before, after, latency, operation="MetricsProbe", type="query", outcome="ok") == 3
    )
    bad_email = {"operation": "BadEmail", "type": "mutation", "outcome": "user_error"}
    assert increase(before, after, latency, **bad_email) == 1
    assert increase(before, after, latency, operation="Broken", type="query", outcome="error") == 1
    assert (
        increase(before, after, "portal_graphql_user_errors_total", operation="BadEmail",
                 code="INVALID_EMAIL")
        == 1
    )  # fmt: skip
    assert increase(before, after, "portal_graphql_errors_total", code="BAD_USER_INPUT") >= 1
    assert increase(before, after, "portal_graphql_errors_total", code="UNAUTHENTICATED") >= 1
    assert (
        increase(before, after, "portal_http_requests_total", route="/graphql", method="POST",
                 status="200")
        >= 9
    )  # fmt: skip
    # Routes are counted by their template: no id or token becomes a label.
    assert not [labels for (_, labels) in after if any("cus_" in v for _, v in labels)]

    # From the database: one payment of each outcome, and the receipt waiting in the outbox
    # (the tests run no worker).
    assert value(after, "portal_payments", status="succeeded", mode="test") == 1
    assert value(after, "portal_payments", status="failed", mode="test") == 1
    assert value(after, "portal_payments", status="succeeded", mode="live") == 0
    email_depth = value(after, "portal_queue_depth", queue="outbox", kind="email")
    assert email_depth >= 1
    assert value(after, "portal_queue_oldest_age_seconds", queue="outbox", kind="email") >= 0
    assert value(after, "portal_queue_depth", queue="webhook_delivery", kind="webhook") == 0
    assert value(after, "portal_webhook_deliveries", status="failed", mode="test") == 0
    assert value(after, "portal_outbox_dead", kind="email") == 0


async def test_operation_names_from_clients_cannot_grow_the_series(
    watched: Portal, acme: NewBusiness
) -> None:
    weird = "query " + "x" * 70 + " { products(first: 1) { totalCount } }"
    await watched.gql(weird, token=acme.test_api_key)
    after = await scrape(watched.http)
    latency = "portal_graphql_request_duration_seconds_count"
    names = {dict(labels).get("operation") for (name, labels) in after if name == latency}
    assert "x" * 70 not in names
    assert "invalid" in names


async def test_ready_only_while_every_migration_is_applied(portal: Portal) -> None:
    ready = await portal.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
    # As if the code were newer than the database: its latest migration not applied yet.
    database = connections.get("default")
    _, rows = await database.execute_query(
        "SELECT id, name FROM tortoise_migrations ORDER BY id DESC LIMIT 1"
    )
    latest = rows[0]["name"]
    await database.execute_query(
        "DELETE FROM tortoise_migrations WHERE id = " + str(int(rows[0]["id"]))  # noqa: S608 (an int)
    )
    unready = await portal.http.get("/readyz")
    assert unready.status_code == 503
    assert unready.json() == {
        "status": "unavailable",
        "reason": "database not migrated (run `portal migrate`)",
        "pending": [f"models.{latest}"],
    }
    assert (await portal.http.get("/healthz")).status_code == 200  # the process still lives


async def test_every_response_carries_a_request_id(portal: Portal, acme: NewBusiness) -> None:
    given = await portal.http.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:9"})
    assert given.headers["x-request-id"] == "lb-7f3a.42:9"
    made = await portal.http.post(
        "/graphql",
        json={"query": "{ products(first: 1) { totalCount } }"},
        headers={"Authorization": f"Bearer {acme.test_api_key}"},
    )
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    for insane in ["x" * 65, "two words", "<script>", ""]:
        replaced = await portal.http.get("/healthz", headers={"X-Request-ID": insane})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"]), insane
    assert made.headers["x-request-id"] != replaced.headers["x-request-id"]


async def test_graphiql_is_served_from_here_under_a_content_security_policy(
    portal: Portal,
) -> None:
    page = await portal.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    assert "unsafe" not in csp
    assert "https://" not in page.text and "<style" not in page.text
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None, "inline script"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(assets) == 6
    for asset in assets:
        served = await portal.http.get(asset)
        assert served.status_code == 200, asset
        assert b"sourceMappingURL" not in served.content, asset


async def test_a_failing_webhook_receiver_shows_in_the_queue_and_the_failing_endpoints(
    watched: Portal, acme: NewBusiness
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    await create_endpoint(watched, acme.test_api_key, closed)
    before = await scrape(watched.http)
    assert value(before, "portal_webhook_endpoints_failing", mode="test") == 0

    await emit(acme)  # the event waits in the outbox to be fanned out to the endpoints
    waiting = await scrape(watched.http)
    assert value(waiting, "portal_queue_depth", queue="outbox", kind="webhook") == 1
    await deliver(watched)  # fanned out, one attempt, refused: the delivery waits for a retry

    after = await scrape(watched.http)
    assert value(after, "portal_queue_depth", queue="outbox", kind="webhook") == 0
    assert value(after, "portal_queue_depth", queue="webhook_delivery", kind="webhook") == 1
    assert value(after, "portal_webhook_deliveries", status="pending", mode="test") == 1
    assert value(after, "portal_webhook_endpoints_failing", mode="test") == 1
    assert value(after, "portal_webhook_endpoints_failing", mode="live") == 0
