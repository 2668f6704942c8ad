"""The running `portal serve`: readiness on an unmigrated database, JSON log lines that carry
the request id the response echoes, and /metrics scraped over the network after known traffic."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import IN_CI, POSTGRES_URL, _pg_admin, _pg_url
from tests.process.processes import run_portal, running_server

TOKEN = "scrape-token-0123456789abcdef"


def test_an_unmigrated_database_is_live_but_not_ready(tmp_path: Path) -> None:
    with running_server(tmp_path, migrate=False) as server:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        unready = httpx.get(f"{server.url}/readyz")
        assert unready.status_code == 503
        assert unready.json()["reason"] == "database not migrated (run `portal migrate`)"
        assert "models.0001_initial" in unready.json()["pending"]
        assert run_portal(tmp_path, "migrate").returncode == 0
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200, ready.text


def test_log_lines_are_json_with_the_request_id_the_response_echoes(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        given = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "trace-4711"})
        made = httpx.get(f"{server.url}/readyz")
        httpx.get(
            f"{server.url}/graphql",
            params={
                "query": "{ __typename } # LK-SECRET-IN-QUERY",
                "variables": '{"key": "LK-SECRET-IN-VARIABLES"}',
                "operationName": "Probe",
            },
            headers={"Accept": "application/json", "Authorization": "Bearer sk_test_NOTLOGGED"},
        )
        # The access log's line is written once the response has gone out.
        deadline = time.monotonic() + 10
        while "operationName=Probe" not in server.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = server.log_lines()  # every line parses: uvicorn's own lines are JSON too
    assert given.headers["x-request-id"] == "trace-4711"
    access = {line["request_id"]: line for line in lines if line["logger"] == "portal.access"}
    assert access["trace-4711"]["target"] == "/healthz"
    assert access["trace-4711"]["status"] == 200
    assert access[made.headers["x-request-id"]]["target"] == "/readyz"
    assert {"time", "level", "message"} <= set(access["trace-4711"])
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    # A GraphQL GET is logged by its operation name only; no header is logged.
    graphql = [line for line in access.values() if line["target"].startswith("/graphql")]
    assert [line["target"] for line in graphql] == [
        "/graphql?query=[redacted]&variables=[redacted]&operationName=Probe"
    ]
    text = json.dumps(lines)
    assert "SECRET-IN" not in text and "NOTLOGGED" not in text


def test_metrics_over_the_network_count_what_was_served(tmp_path: Path) -> None:
    with running_server(tmp_path, PORTAL_METRICS_TOKEN=TOKEN) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 401
        for _ in range(4):
            httpx.post(f"{server.url}/graphql", json={"query": "query Anon { __typename }"})
        body = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    key = (
        "portal_graphql_request_duration_seconds_count",
        (("operation", "Anon"), ("outcome", "ok"), ("type", "query")),
    )
    assert samples[key] == 4
    assert samples[("portal_queue_depth", (("kind", "email"), ("queue", "outbox")))] == 0
    assert ("process_cpu_seconds_total", ()) in samples


def test_processes_sharing_a_multiprocess_directory_report_each_others_counts(
    tmp_path: Path,
) -> None:
    """Two `portal serve` processes on one database with one PROMETHEUS_MULTIPROC_DIR, as
    several uvicorn workers would be: a scrape of either adds up what both served."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {"PORTAL_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with running_server(tmp_path, **env) as first, running_server(tmp_path, **env) as second:
        for server, times in ((first, 2), (second, 3)):
            for _ in range(times):
                httpx.post(f"{server.url}/graphql", json={"query": "query Both { __typename }"})
        body = httpx.get(f"{first.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    counts = [
        sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == "portal_graphql_request_duration_seconds_count"
        and sample.labels.get("operation") == "Both"
    ]
    assert counts == [5]


def test_a_database_that_goes_away_makes_the_server_unready(tmp_path: Path) -> None:
    """On PostgreSQL: the server's database dropped under it (every connection cut)."""
    name = f"portal_ready_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc!r}")
    try:
        with running_server(tmp_path, PORTAL_DATABASE_URL=_pg_url(name)) as server:
            ready = httpx.get(f"{server.url}/readyz")
            assert ready.status_code == 200, ready.text + server.log_text()
            asyncio.run(_pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
            unready = httpx.get(f"{server.url}/readyz", timeout=20)
            assert httpx.get(f"{server.url}/healthz").status_code == 200
            log = server.log_text()
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert unready.status_code == 503
    assert unready.json() == {"status": "unavailable", "reason": "database unreachable"}
    assert name not in unready.text
    assert "readiness: database unreachable" in log
