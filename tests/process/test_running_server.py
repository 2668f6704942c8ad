"""The real server process: the `portal` CLI, uvicorn, and the graphql-http conformance audit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.process.processes import ROOT, run_portal, running_server

AUDIT_DIR = ROOT / "tests" / "http_audit"
IN_CI = os.environ.get("CI", "").lower() == "true"
_portal = run_portal


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with running_server(tmp_path) as running:
        yield running.url, tmp_path


def test_create_business_prints_keys_that_work(server: tuple[str, Path]) -> None:
    url, tmp_path = server
    result = _portal(
        tmp_path, "create-business", "Initech", "--support-email", "it@initech.de", "--json"
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["business_id"].startswith("bus_")
    assert created["test_api_key"].startswith("sk_test_")
    assert created["live_api_key"].startswith("sk_live_")
    for key, expected in (
        (created["test_api_key"], "/test/login/"),
        (created["live_api_key"], "/login/"),
    ):
        response = httpx.post(
            f"{url}/graphql",
            json={"query": "{ business { id name portalLoginUrl } }"},
            headers={"Authorization": f"Bearer {key}"},
        )
        business = response.json()["data"]["business"]
        assert business["id"] == created["business_id"] and business["name"] == "Initech"
        assert business["portalLoginUrl"] == f"{url}{expected}{created['business_id']}"
    # The keys are stored hashed only.
    database = (tmp_path / "portal.sqlite3").read_bytes()
    assert created["test_api_key"].encode() not in database
    assert created["live_api_key"].encode() not in database


def test_create_business_rejects_a_bad_email(tmp_path: Path) -> None:
    assert _portal(tmp_path, "migrate").returncode == 0
    result = _portal(tmp_path, "create-business", "X", "--support-email", "nope", "--json")
    assert result.returncode == 2
    assert "valid email" in result.stderr
    assert result.stdout == ""


def test_demo_prints_keys_and_a_working_magic_link(server: tuple[str, Path]) -> None:
    url, tmp_path = server
    result = _portal(tmp_path, "demo", PORTAL_PUBLIC_URL=url)
    assert result.returncode == 0, result.stderr
    lines = {
        line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if ":" in line
    }
    assert lines["test API key"].startswith("sk_test_")
    magic = next(v for k, v in lines.items() if k.startswith("magic link"))
    token = magic.rsplit("/", 1)[1]
    response = httpx.post(
        f"{url}/graphql",
        json={
            "query": "mutation($t: String!) { signIn(input: {token: $t}) "
            "{ sessionToken userErrors { code } } }",
            "variables": {"t": token},
        },
    )
    assert response.json()["data"]["signIn"]["userErrors"] == []


def test_graphql_http_audit_has_no_errors(server: tuple[str, Path]) -> None:
    """The graphql-http conformance audit (npm) against the running server."""
    url, _ = server
    node = shutil.which("node")
    if node is None or not (AUDIT_DIR / "node_modules" / "graphql-http").exists():
        if IN_CI:
            pytest.fail(
                "node and tests/http_audit/node_modules are needed (make test installs them)"
            )
        pytest.skip("node or graphql-http not installed")
    result = subprocess.run(
        [node, "audit.mjs", f"{url}/graphql"],
        cwd=AUDIT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = json.loads(result.stdout)
    assert summary["error"] == 0, summary["errors"]
    assert summary["ok"] >= 50
    print(f"graphql-http audit: {summary['ok']} ok, {summary['warn']} warn, 0 error")
    print("\n".join(summary["warnings"]))
