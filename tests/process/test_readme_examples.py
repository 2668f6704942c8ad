"""The README's quickstart examples, run as written against a real `portal serve`: the CLI and
curl commands with bash, the JavaScript with node. They are read from the README itself (a
fenced block right after `<!-- example: NAME -->`), with the placeholders filled in, so an
example that goes stale fails here."""

from __future__ import annotations

import email
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from email.policy import default as default_policy
from typing import Any

import pytest

from support import LINK_RE, token_of
from tests.process.processes import ROOT, RunningServer, portal_env, running_server

README = ROOT / "README.md"
README_URL = "http://127.0.0.1:8000"  # the server the README's examples talk to
EXAMPLE = re.compile(
    r"^<!-- example: (?P<name>[\w-]+) -->\n```(?P<language>\w+)\n(?P<code>.*?)\n```$",
    re.MULTILINE | re.DOTALL,
)
PLACEHOLDER = re.compile(r"<[A-Z_]+>")
IN_CI = os.environ.get("CI", "").lower() == "true"

CURL_STORY = [
    "curl-create-customer",
    "curl-create-portal-session",
    "curl-sign-in",
    "curl-dashboard",
    "curl-request-login-link",
]
JS_FRONTEND = ["js-frontend-helper", "js-sign-in", "js-dashboard", "js-request-login-link"]


def readme_examples() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for match in EXAMPLE.finditer(README.read_text()):
        assert match["name"] not in found, f"two README examples named {match['name']}"
        found[match["name"]] = (match["language"], match["code"])
    return found


EXAMPLES = readme_examples()


def example(name: str, language: str, url: str, **values: str) -> str:
    """The README's example with the server's URL and the placeholders filled in."""
    found_language, code = EXAMPLES[name]
    assert found_language == language, f"{name} is {found_language}, not {language}"
    code = code.replace(README_URL, url)
    for placeholder, value in values.items():
        code = code.replace(f"<{placeholder}>", value)
    left = PLACEHOLDER.findall(code)
    assert not left, f"{name}: nothing fills {left}"
    return code


def test_every_marked_example_is_run_here() -> None:
    assert set(EXAMPLES) == {
        "cli-create-business",
        "js-merchant",
        "curl-register-trusted-documents",
        *CURL_STORY,
        *JS_FRONTEND,
    }


def _needs(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        if IN_CI:
            pytest.fail(f"{program} is needed to run the README's examples")
        pytest.skip(f"{program} not installed")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("readme")) as running:
        yield running


def run_shell(server: RunningServer, code: str) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=ROOT,
        env=portal_env(server.tmp_path, PORTAL_PUBLIC_URL=server.url),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, f"{code}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def run_curl(server: RunningServer, name: str, **values: str) -> dict[str, Any]:
    body = json.loads(run_shell(server, example(name, "sh", server.url, **values)))
    assert "errors" not in body, (name, body)
    return dict(body["data"])


def run_node(server: RunningServer, names: list[str], **values: str) -> str:
    node = _needs("node")
    script = server.tmp_path / f"{names[-1]}.mjs"
    script.write_text("\n\n".join(example(n, "js", server.url, **values) for n in names) + "\n")
    result = subprocess.run(
        [node, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, f"{script.read_text()}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def create_business(server: RunningServer) -> dict[str, str]:
    created = json.loads(run_shell(server, example("cli-create-business", "sh", server.url)))
    assert created["test_api_key"].startswith("sk_test_")
    return dict(created)


def login_link_mailed_to(server: RunningServer, address: str) -> str:
    """The sign-in link the server's outbox worker wrote to var/outbox for the address."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for path in sorted((server.tmp_path / "var" / "outbox").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
            if address in str(message["To"]):
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                links = LINK_RE.findall(str(body.get_content()))
                assert links, f"no sign-in link in {path}"
                return str(links[0])
        time.sleep(0.1)
    raise AssertionError(f"no email to {address}: " + server.log_text())


def test_the_curl_examples(server: RunningServer) -> None:
    _needs("curl")
    business = create_business(server)
    key, business_id = business["test_api_key"], business["business_id"]

    created = run_curl(server, "curl-create-customer", API_KEY=key)["createCustomer"]
    assert created["userErrors"] == [] and created["customer"]["email"] == "ada@example.com"
    customer_id = created["customer"]["id"]

    portal_session = run_curl(
        server, "curl-create-portal-session", API_KEY=key, CUSTOMER_ID=customer_id
    )["createCustomerPortalSession"]
    assert portal_session["userErrors"] == []
    link = portal_session["portalSession"]["link"]
    assert link.startswith(f"{server.url}/test/session/")

    signed = run_curl(server, "curl-sign-in", TOKEN=token_of(link))["signIn"]
    assert signed["userErrors"] == [] and signed["customer"]["email"] == "ada@example.com"
    # A token works once, as the README says.
    again = run_curl(server, "curl-sign-in", TOKEN=token_of(link))["signIn"]
    assert [e["code"] for e in again["userErrors"]] == ["LINK_EXPIRED"]

    me = run_curl(server, "curl-dashboard", SESSION_TOKEN=signed["sessionToken"])["me"]
    assert me["email"] == "ada@example.com"
    assert me["subscriptions"]["edges"] == [] and me["paymentMethods"] == []

    requested = run_curl(server, "curl-request-login-link", BUSINESS_ID=business_id)
    assert requested["requestLoginLink"]["userErrors"] == []
    mailed = login_link_mailed_to(server, "ada@example.com")
    assert mailed.startswith(f"{server.url}/test/session/")


def test_the_trusted_documents_example(server: RunningServer) -> None:
    """The deploy step of "Persisted documents": the README's document is the built-in one, and
    the answer gives each registered document's hash."""
    from services.persisted_documents import REGISTER_TRUSTED_DOCUMENTS

    _needs("curl")
    business = create_business(server)
    assert json.dumps(REGISTER_TRUSTED_DOCUMENTS) in EXAMPLES["curl-register-trusted-documents"][1]
    registered = run_curl(
        server, "curl-register-trusted-documents", API_KEY=business["test_api_key"]
    )["registerTrustedDocuments"]
    document = "query Business { business { name } }"
    assert registered == {
        "documentIds": [hashlib.sha256(document.encode()).hexdigest()],
        "userErrors": [],
    }


def test_the_javascript_examples(server: RunningServer) -> None:
    _needs("node")
    business = create_business(server)

    merchant = run_node(server, ["js-merchant"], API_KEY=business["test_api_key"])
    link = merchant.strip().splitlines()[-1]
    assert link.startswith(f"{server.url}/test/session/"), merchant

    frontend = run_node(
        server, JS_FRONTEND, TOKEN=token_of(link), BUSINESS_ID=business["business_id"]
    )
    assert frontend.splitlines() == ["grace@example.com", "Check your email."], frontend
    assert login_link_mailed_to(server, "grace@example.com").startswith(server.url)
