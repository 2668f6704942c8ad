"""The dashboard benchmark still runs, and its floor still answers with exactly the bytes that
/graphql answers (scripts/bench_dashboard.py stops when they differ): a change to the dashboard's
answer must bring the floor along, or the benchmark would time two different things."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import BACKENDS, IN_CI, POSTGRES_URL
from tests.process.processes import ROOT


@pytest.mark.parametrize("backend", BACKENDS)
def test_bench_dashboard_floor_answers_as_graphql_does(backend: str) -> None:
    script = [sys.executable, "scripts/bench_dashboard.py", "--db", backend]
    options = ["--postgres-url", POSTGRES_URL, "--runs", "3", "--warmup", "1"]
    result = subprocess.run(
        [*script, *options, "--sizes", "3x20,1x0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode == 2 and not IN_CI:
        pytest.skip(result.stderr.strip())
    # 1 is the benchmark's verdict (a ratio over its target), not a failure to measure.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "bodies differ" not in result.stderr
    assert "3/20 |" in result.stdout and "1/0 |" in result.stdout, result.stdout


@pytest.mark.skipif("postgres" not in BACKENDS, reason="the depth benchmark is PostgreSQL's")
def test_bench_depth_smoke_run_pages_and_counts_right() -> None:
    """A tiny run of scripts/bench_depth.py (the real one loads 1 M invoices; README): its own
    checks hold (the deep and last pages start at the right invoice, totalCount is the
    list's), and it reports the plans it explains."""
    script = [sys.executable, "scripts/bench_depth.py", "--postgres-url", POSTGRES_URL]
    options = ["--invoices", "400", "--deep", "200", "--runs", "2", "--warmup", "1"]
    result = subprocess.run(
        [*script, *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # 1 is the benchmark's verdict (a ratio over its target), not a failure to measure.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "page 10 |" in result.stdout and "totalCount |" in result.stdout, result.stdout
    assert "ROW(created_at, (id)::text) < ROW($4, $5)" in result.stdout, result.stdout
