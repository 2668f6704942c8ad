"""PostgreSQL connections go back to the pool as they are (app/db.py, `release_as_is`): asyncpg
rolls back an open transaction, and nothing else is reset. That holds while no code of ours makes
session state on a pooled connection: no advisory locks, no cursors, no LISTEN, no session
settings. This test reads the SQL our code could send and fails on any of them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.db import release_as_is, tortoise_config

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("app", "schema", "resolvers", "services", "models", "mailers")

SESSION_STATE = re.compile(
    r"pg_advisory_lock|pg_advisory_xact|pg_try_advisory|(^|;)\s*LISTEN\s|\bDECLARE\s+\w+\s+CURSOR"
    r"|\bSET\s+(SESSION|LOCAL|ROLE|TIME\s+ZONE|search_path|statement_timeout)\b|set_config\(",
    re.IGNORECASE | re.MULTILINE,
)


def strings_of(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that could be SQL: not docstrings (bare strings)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    bare = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def test_no_session_state_is_made_on_pooled_connections() -> None:
    found = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            for number, text in strings_of(path):
                if SESSION_STATE.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {text[:80]}")
    assert found == []


def test_the_check_sees_session_state(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text('"""LISTEN here is prose."""\nSQL = "SELECT pg_advisory_lock(1)"\n')
    assert strings_of(module) == [(2, "SELECT pg_advisory_lock(1)")]
    assert SESSION_STATE.search('await conn.execute("SET SESSION statement_timeout = 5")')
    assert SESSION_STATE.search("SELECT pg_advisory_lock(42)")
    assert SESSION_STATE.search("LISTEN payment_updates")
    assert not SESSION_STATE.search("the LISTEN connection closed")
    assert not SESSION_STATE.search("UPDATE invoice SET status = ? WHERE id = ?")


def test_postgres_pools_release_connections_as_they_are() -> None:
    postgres = tortoise_config("postgres://postgres@127.0.0.1:5432/portal")
    assert postgres["connections"]["default"]["credentials"]["reset"] is release_as_is
    assert tortoise_config("sqlite://var/portal.sqlite3")["connections"]["default"] == (
        "sqlite://var/portal.sqlite3"
    )
