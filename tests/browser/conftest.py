"""The real server in a subprocess (uvicorn, its own outbox worker, SQLite migrated with our
migrations), a real SMTP server catching its mail, and Debian's Chromium driven by Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium. Without it the browser tests
are skipped locally and fail in CI (.ci/run installs it)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import migrate_database
from support import MailCatcher, free_port

from .helpers import ARTIFACTS, ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing_browser()
    if reason:
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mail: MailCatcher
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("browser-server")
    database_url = f"sqlite://{directory}/portal.sqlite3"
    asyncio.run(migrate_database(database_url))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_VAR_DIR=str(directory / "var"),
        PORTAL_PUBLIC_URL=url,
        PORTAL_SMTP_URL=mail.url,
        PORTAL_SECRET_KEY="browser-test-secret-" + "x" * 40,
        PORTAL_RATE_LIMIT_LOGIN_IP="1000/hour",
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # One log per module: with pytest-xdist, modules run in several processes at once.
    log_path = ARTIFACTS / f"server-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            assert process.poll() is None, log_path.read_text()
        else:
            pytest.fail("the portal server did not start")
        server = Server(url, env)
        yield server
        server.http.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module", autouse=True)
def fresh_artifacts(request: pytest.FixtureRequest) -> None:
    folder = ARTIFACTS / request.module.__name__.rsplit(".", 1)[-1]
    shutil.rmtree(folder, ignore_errors=True)
