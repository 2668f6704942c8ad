"""schema.graphql is generated from the code and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    printed = print_schema(schema).rstrip("\n") + "\n"
    assert SCHEMA_FILE.read_text() == printed, "run `make schema` and commit schema.graphql"
