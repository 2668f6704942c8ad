"""Keyset pagination, newest first, on (created_at, id): stable while rows are added."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.ids import well_formed
from services.errors import ServiceError
from services.sql import Row, as_datetime, select, select_tuples

MAX_PAGE = 100
DEFAULT_PAGE = 20

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    keys: list[tuple[datetime, str]]  # (created_at, id) of each row, what a cursor encodes
    has_next_page: bool
    total_count: Any  # an awaitable factory, so the COUNT runs only when asked for

    def cursor(self, index: int) -> str:
        """Encoded when asked for: most queries never read the cursor of every edge."""
        return encode_cursor(*self.keys[index])

    @property
    def end_cursor(self) -> str | None:
        return self.cursor(-1) if self.keys else None


def encode_cursor(created_at: datetime, object_id: str) -> str:
    raw = f"{created_at.isoformat()}|{object_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_CURSOR_LENGTH = 200


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at in UTC, id) a cursor holds; BAD_USER_INPUT for anything we did not
    write (too long, not base64, an id of the wrong form, a time out of range)."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, object_id = base64.urlsafe_b64decode(padded).decode().partition("|")
        parsed = datetime.fromisoformat(created)
        if parsed.tzinfo is None or not well_formed(object_id):
            raise ValueError
        return parsed.astimezone(UTC), object_id
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise ServiceError("Invalid cursor.", code="BAD_USER_INPUT", field=["after"]) from exc


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise ServiceError("first must not be negative.", code="BAD_USER_INPUT", field=["first"])
    return min(first, MAX_PAGE)


async def paginate(query: QuerySet[Any], first: int | None, after: str | None) -> Page[Any]:
    size = page_size(first)
    count_query = query.count

    async def total_count() -> int:
        return await count_query()

    if after:
        created, object_id = decode_cursor(after)
        query = query.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=object_id))
    rows = list(await query.order_by("-created_at", "-id").limit(size + 1))
    has_next = len(rows) > size
    rows = rows[:size]
    keys = [(row.created_at, row.id) for row in rows]
    return Page(rows=rows, keys=keys, has_next_page=has_next, total_count=total_count)


async def _no_rows() -> int:
    return 0


@dataclass(frozen=True)
class Join:
    """A to-one relation read with a page in the same SELECT (a LEFT JOIN on `column`). Its
    `columns` (which include `id`) come back as a dict under `name` in each row, or None where
    `column` is NULL."""

    name: str
    model: type[Model]
    column: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class _PageStatements:
    first_page: str
    next_page: str  # with the keyset condition for `after`
    count: str
    own: tuple[str, ...]  # the names of the page's own values, in the order selected
    # Per join: its name, columns, where its values start and end, where its id is.
    parts: tuple[tuple[str, tuple[str, ...], int, int, int], ...]


@lru_cache(maxsize=256)
def _page_statements(
    model: type[Model],
    columns: tuple[str, ...],
    where: tuple[str, ...],
    joins: tuple[Join, ...],
    computed: tuple[tuple[str, str], ...],
) -> _PageStatements:
    """The SQL of a page, written once per shape. Table and column names come from code; every
    value is a parameter."""
    names = [*where, *columns, *(name for name, _ in computed)]
    names += [c for join in joins for c in join.columns]
    assert all(name.isidentifier() for name in names)
    table = model._meta.db_table
    conditions = " AND ".join(f"t.{column} = ?" for column in where)
    selected = [f"t.{c}" for c in columns]
    selected += [f"({sql}) AS {name}" for name, sql in computed]
    joined = []
    for n, join in enumerate(joins):
        alias = f"j{n}"
        selected += [f"{alias}.{c} AS {join.name}__{c}" for c in join.columns]
        joined.append(
            f" LEFT JOIN {join.model._meta.db_table} {alias} ON {alias}.id = t.{join.column}"
        )
    tables = f"{table} t{''.join(joined)}"
    head = f"SELECT {', '.join(selected)} FROM {tables} WHERE {conditions}"  # noqa: S608
    order = " ORDER BY t.created_at DESC, t.id DESC LIMIT ?"
    keyset = " AND (t.created_at < ? OR (t.created_at = ? AND t.id < ?))"
    own = (*columns, *(name for name, _ in computed))
    parts = []
    offset = len(own)
    for join in joins:
        width = len(join.columns)
        parts.append((join.name, join.columns, offset, offset + width, join.columns.index("id")))
        offset += width
    return _PageStatements(
        first_page=head + order,
        next_page=head + keyset + order,
        count=f"SELECT COUNT(*) AS n FROM {table} t WHERE {conditions}",  # noqa: S608
        own=own,
        parts=tuple(parts),
    )


async def paginate_rows(
    model: type[Model],
    columns: tuple[str, ...],
    where: dict[str, Any] | None,
    first: int | None,
    after: str | None,
    joins: tuple[Join, ...] = (),
    computed: tuple[tuple[str, str], ...] = (),
) -> Page[Row]:
    """The same keyset page as `paginate`, read with one hand-written SELECT into dicts (see
    services/sql.py): the `columns` (with `id` and `created_at`) of `model`'s table, and the
    `joins` in the same statement. `where` maps column names, which come from code, to the
    values they must equal; None means the caller may see nothing. `computed` adds columns:
    (name, an SQL expression from code over the page's table `t`)."""
    size = page_size(first)
    start = decode_cursor(after) if after else None
    if where is None:
        return Page(rows=[], keys=[], has_next_page=False, total_count=_no_rows)
    statements = _page_statements(model, columns, tuple(where), joins, computed)
    params: list[Any] = list(where.values())

    async def total_count() -> int:
        [row] = await select(model, statements.count, params)
        return int(row["n"])

    if start is None:
        records = await select_tuples(model, statements.first_page, [*params, size + 1])
    else:
        created = start[0]  # in UTC: SQLite compares the text Tortoise wrote
        keyset = [created, created, start[1]]
        records = await select_tuples(model, statements.next_page, [*params, *keyset, size + 1])
    has_next = len(records) > size
    own, parts = statements.own, statements.parts
    rows: list[Row] = []
    keys = []
    for record in records[:size]:
        row = dict(zip(own, record, strict=False))
        row["created_at"] = created_at = as_datetime(row["created_at"])
        keys.append((created_at, row["id"]))
        for name, join_columns, first_value, last_value, id_at in parts:
            values = record[first_value:last_value]
            joined = None if values[id_at] is None else dict(zip(join_columns, values, strict=True))
            row[name] = joined
        rows.append(row)
    return Page(rows=rows, keys=keys, has_next_page=has_next, total_count=total_count)
