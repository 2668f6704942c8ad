"""Hand-written SELECTs for hot read paths, run on Tortoise's connection, rows as dicts.

The portal dashboard reads a few hundred rows per request; building each query through the
ORM's query builder and each row into a model object costs more than everything else in the
request (measured in scripts/bench_dashboard.py). Reads that need no model behaviour go through
here: the SQL is written once with `?` placeholders (rewritten to `$1, $2, …` for PostgreSQL),
values come back as the driver gives them, and the view that reads a row converts the columns
it shows (`as_datetime`, `as_bool`). Writes always go through the models.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

import ciso8601
from tortoise import connections
from tortoise.exceptions import OperationalError
from tortoise.models import Model

Row = dict[str, Any]


@lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …`. Our statements have no literal `?`."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


def _client(model: type[Model]) -> Any:
    # connections.get honours a surrounding in_transaction(), like the models' own queries.
    return connections.get(model._meta.default_connection or "default")


async def select(model: type[Model], sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Runs `sql` on the connection of `model`'s app. Enum parameters go in as their values."""
    client = _client(model)
    values = [param.value if isinstance(param, Enum) else param for param in params]
    if client.capabilities.dialect == "sqlite":
        return [dict(record) for record in await _sqlite_select(client, sql, values)]
    if client.capabilities.dialect == "postgres":
        sql = _numbered(sql)
    return list(await client.execute_query_dict(sql, values))


async def select_tuples(
    model: type[Model], sql: str, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """Like `select`, with a tuple of values per row in the order selected: for splitting a row
    of joined tables into one dict per table without building the whole row as a dict first."""
    client = _client(model)
    values = [param.value if isinstance(param, Enum) else param for param in params]
    if client.capabilities.dialect == "sqlite":
        records = await _sqlite_select(client, sql, values)
    else:
        if client.capabilities.dialect == "postgres":
            sql = _numbered(sql)
        _, records = await client.execute_query(sql, values)
    return [tuple(record) for record in records]


# SQLite: the SELECTs that resolvers issue in the same turn of the event loop (the lists of
# one dashboard start together) run in one trip to the connection's thread instead of one
# trip each. The SQLite connection runs one statement at a time anyway; each trip costs a
# thread hand-off both ways (~0.1 ms), and between trips the next statement would wait for
# whatever the event loop does with the previous result.


class _Batch:
    def __init__(self, client: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop
        self.statements: list[tuple[str, list[Any], asyncio.Future[list[Any]]]] = []


_batches: dict[int, _Batch] = {}


def _sqlite_select(client: Any, sql: str, values: list[Any]) -> asyncio.Future[list[Any]]:
    loop = asyncio.get_running_loop()
    batch = _batches.get(id(client))
    if batch is None or batch.client is not client or batch.loop is not loop:
        batch = _batches[id(client)] = _Batch(client, loop)
        loop.call_soon(_start, batch, loop, _TURNS)
    future: asyncio.Future[list[Any]] = loop.create_future()
    batch.statements.append((sql, values, future))
    return future


# Turns of the loop a batch waits for more statements: a DataLoader started in the same turn
# as the lists (the dashboard's saved cards) issues its SELECT two turns later.
_TURNS = 3


def _start(batch: _Batch, loop: asyncio.AbstractEventLoop, turns: int) -> None:
    if turns > 1:
        loop.call_soon(_start, batch, loop, turns - 1)
        return
    if _batches.get(id(batch.client)) is batch:
        del _batches[id(batch.client)]
    task = asyncio.ensure_future(_run(batch))
    _running.add(task)
    task.add_done_callback(_running.discard)


_running: set[asyncio.Task[None]] = set()


async def _run(batch: _Batch) -> None:
    client, statements = batch.client, batch.statements
    try:
        async with client.acquire_connection() as connection:
            for sql, values, _ in statements:
                client.log.debug("%s: %s", sql, values)  # as Tortoise logs every statement
            # aiosqlite runs functions on its connection's thread through `_execute` (its
            # public calls take one statement each); pyproject.toml pins the versions read.
            results = await connection._execute(
                _fetch_all, connection._conn, [(sql, values) for sql, values, _ in statements]
            )
    except Exception as error:
        for _, _, future in statements:
            if not future.done():
                future.set_exception(error)
        return
    except BaseException:  # cancelled: so are the statements waiting for it
        for _, _, future in statements:
            future.cancel()
        raise
    for (_, _, future), result in zip(statements, results, strict=True):
        if future.done():
            continue
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)


def _fetch_all(
    connection: sqlite3.Connection, statements: list[tuple[str, list[Any]]]
) -> list[Any]:
    """On the connection's thread: each statement's rows, or the error it raised."""
    results: list[Any] = []
    for sql, values in statements:
        try:
            cursor = connection.execute(sql, values)
            try:
                results.append(cursor.fetchall())
            finally:
                cursor.close()
        except sqlite3.Error as error:
            results.append(OperationalError(str(error)))
        except Exception as error:  # e.g. a value sqlite3 cannot bind: this statement's alone
            results.append(error)
    return results


def placeholders(count: int) -> str:
    """`?, ?, ?` for an IN list of `count` values (at least one: `IN ()` is not SQL)."""
    return ", ".join("?" * max(count, 1))


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp column as an aware UTC datetime: PostgreSQL gives datetimes, SQLite the text
    that Tortoise wrote (`2026-11-25 17:12:11.123456+00:00`)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = ciso8601.parse_datetime(value)
    if value.tzinfo is UTC:  # what both drivers give for what Tortoise wrote
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_bool(value: Any) -> bool:
    """SQLite stores booleans as 0 and 1."""
    return bool(value)


def model_row(instance: Model) -> Row:
    """A model's values under their column names, the shape `select` returns (already typed)."""
    meta = instance._meta
    return {column: getattr(instance, field) for field, column in meta.fields_db_projection.items()}


async def rows_by_id(
    model: type[Model], columns: Sequence[str], ids: Sequence[str]
) -> list[Row | None]:
    """The rows with these ids (their `columns`, with `id`), in the order asked, None where
    there is none. By id alone: for DataLoaders, whose callers start from a scoped query (see
    resolvers/context.py)."""
    if not ids:
        return []
    assert all(column.isidentifier() for column in columns)
    table = model._meta.db_table
    listed = ", ".join(columns)
    sql = f"SELECT {listed} FROM {table} WHERE id IN ({placeholders(len(ids))})"  # noqa: S608
    rows = await select(model, sql, ids)
    found = {row["id"]: row for row in rows}
    return [found.get(object_id) for object_id in ids]
