"""Hand-written SELECTs for the read paths people wait for, through Tortoise's public client
calls (`execute_query_dict`), rows as typed dicts.

The portal dashboard reads a few hundred rows per request; the ORM's query builder and model
objects cost more than the rest of the request (scripts/bench_dashboard.py). Reads that need no
model behaviour come through here: the SQL is written once with `?` placeholders (numbered
`$1, $2, …` for PostgreSQL), and each value comes back typed as the model's field declares it
(`typed`): SQLite hands back timestamps as text and booleans as 0/1. Writes go through the models.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import cache, lru_cache
from typing import Any

from tortoise import connections
from tortoise.models import Model

Row = dict[str, Any]


@lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …`. Our statements have no literal `?`."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


async def fetch_rows(sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Runs `sql` on the current connection (that of a surrounding `in_transaction()`, if any);
    enum parameters go in as their values. Values come back as the driver gives them."""
    client = connections.get("default")
    values = [param.value if isinstance(param, Enum) else param for param in params]
    if client.capabilities.dialect == "postgres":
        sql = _numbered(sql)
    return list(await client.execute_query_dict(sql, values))


def placeholders(count: int) -> str:
    """`?, ?, ?` for an IN list of `count` values (at least one: `IN ()` is not SQL)."""
    return ", ".join("?" * max(count, 1))


@dataclass(frozen=True)
class Columns:
    """What a table's columns hold, read from the model's public `describe()`."""

    table: str
    datetimes: frozenset[str]
    booleans: frozenset[str]
    jsons: frozenset[str]


@cache
def columns_of(model: type[Model]) -> Columns:
    described = model.describe(serializable=True)
    fields = [described["pk_field"], *described["data_fields"]]
    by_type: dict[str, set[str]] = {
        "DatetimeField": set(),
        "BooleanField": set(),
        "JSONField": set(),
    }
    for field in fields:
        if field["field_type"] in by_type:
            by_type[field["field_type"]].add(field["db_column"])
    return Columns(
        table=described["table"],
        datetimes=frozenset(by_type["DatetimeField"]),
        booleans=frozenset(by_type["BooleanField"]),
        jsons=frozenset(by_type["JSONField"]),
    )


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp column as an aware UTC datetime: PostgreSQL gives datetimes, SQLite the text
    that Tortoise wrote (`2026-11-25 17:12:11.123456+00:00`)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is UTC:  # what both drivers give for what Tortoise wrote
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def typed(model: type[Model], row: Row) -> Row:
    """The row with its values as the model's fields declare them, in place."""
    columns = columns_of(model)
    for name in columns.datetimes:
        value = row.get(name)
        if value is not None:
            row[name] = as_datetime(value)
    for name in columns.booleans:
        if name in row:
            row[name] = bool(row[name])
    for name in columns.jsons:
        value = row.get(name)
        if isinstance(value, str):
            row[name] = json.loads(value)
    return row


def row_of(instance: Model, columns: Sequence[str]) -> Row:
    """A model instance's values under their column names: the shape of a typed row."""
    return {column: getattr(instance, column) for column in columns}


async def rows_by_id(
    model: type[Model], columns: Sequence[str], ids: Sequence[str]
) -> list[Row | None]:
    """The typed rows with these ids (their `columns`, with `id`), in the order asked, None
    where there is none. By id alone: for DataLoaders, whose callers start from a scoped query
    (see resolvers/context.py)."""
    if not ids:
        return []
    assert all(column.isidentifier() for column in columns)
    table = columns_of(model).table
    listed = ", ".join(columns)
    sql = f"SELECT {listed} FROM {table} WHERE id IN ({placeholders(len(ids))})"  # noqa: S608
    found = {row["id"]: typed(model, row) for row in await fetch_rows(sql, ids)}
    return [found.get(object_id) for object_id in ids]
