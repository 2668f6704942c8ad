"""The example portal frontend (examples/portal-frontend, TypeScript) compiles against
schema.graphql: GraphQL Code Generator validates its operations and types them, and `tsc`
checks the functions that call them. A field the frontend relies on cannot vanish quietly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "examples" / "portal-frontend"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _run(*command: str, timeout: int) -> None:
    result = subprocess.run(
        command, cwd=FRONTEND, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"


def _installed() -> bool:
    """node_modules as package-lock.json says (npm ci writes its own copy of the lock)."""
    hidden_lock = FRONTEND / "node_modules" / ".package-lock.json"
    lock = FRONTEND / "package-lock.json"
    return hidden_lock.exists() and hidden_lock.stat().st_mtime >= lock.stat().st_mtime


def test_the_frontend_operations_compile_against_the_schema() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if IN_CI:
            pytest.fail("node and npm are needed for examples/portal-frontend")
        pytest.skip("node or npm not installed")
    if not _installed():  # `make test` installs it; a bare pytest run catches up here
        _run(npm, "ci", "--no-audit", "--no-fund", "--silent", timeout=300)
    bin_dir = FRONTEND / "node_modules" / ".bin"
    generated = FRONTEND / "src" / "gql"
    shutil.rmtree(generated, ignore_errors=True)
    _run(str(bin_dir / "graphql-codegen"), "--config", "codegen.ts", timeout=120)
    assert (generated / "graphql.ts").exists()
    _run(str(bin_dir / "tsc"), "--noEmit", "-p", ".", timeout=120)
