"""Running the real `portal` CLI and server as processes, for the process tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support import free_port

ROOT = Path(__file__).resolve().parents[2]
PORTAL = [sys.executable, "-m", "app.cli"]


def portal_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_VAR_DIR": str(tmp_path / "var"),
            "PORTAL_DATABASE_URL": f"sqlite://{tmp_path}/portal.sqlite3",
            **extra,  # a test may name another database
        }
    )
    env.update(extra)  # may name another database
    return env


def run_portal(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTAL, *args],
        cwd=ROOT,
        env=portal_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class RunningServer:
    url: str
    tmp_path: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text()

    def log_lines(self) -> list[dict[str, Any]]:
        """The server's log: one JSON object a line (app/logs.py)."""
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]


@contextmanager
def running_server(
    tmp_path: Path, *, migrate: bool = True, **extra: str
) -> Iterator[RunningServer]:
    """`portal serve` on a free port (the database migrated first, unless `migrate=False`),
    its output in a file."""
    if migrate:
        assert run_portal(tmp_path, "migrate", **extra).returncode == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / f"server-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*PORTAL, "serve", "--port", str(port)],
            cwd=ROOT,
            env=portal_env(tmp_path, **{"PORTAL_PUBLIC_URL": url, **extra}),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
                assert process.poll() is None, log.read_text()
            else:
                raise AssertionError("the server did not start: " + log.read_text())
            yield RunningServer(url, tmp_path, log)
        finally:
            process.terminate()
            process.wait(timeout=10)


@dataclass
class PortalProcess:
    """A `portal` command running in the background, its output in a file."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    def log_text(self) -> str:
        return self.log.read_text()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 15) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_portal(tmp_path: Path, name: str, *args: str, **extra: str) -> PortalProcess:
    """`portal ARGS…` in the background (no migration: the database is given ready)."""
    log = tmp_path / f"{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*PORTAL, *args],
            cwd=ROOT,
            env=portal_env(tmp_path, **extra),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return PortalProcess(process, log)


def start_server(tmp_path: Path, name: str, *args: str, **extra: str) -> PortalProcess:
    """`portal serve ARGS…` on a free port, returned once /healthz answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_portal(
        tmp_path, name, "serve", "--port", str(port), *args, **{"PORTAL_PUBLIC_URL": url, **extra}
    )
    server.url = url
    deadline = time.monotonic() + 60  # a busy machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
        if server.process.poll() is not None:
            break
    server.stop()
    raise AssertionError(f"the server did not start: {server.log_text()}")
