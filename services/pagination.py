"""Keyset pagination, newest first, on (created_at, id): stable while rows are added."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from services.errors import ServiceError
from services.sql import Row, as_datetime, select, select_tuples

MAX_PAGE = 100
DEFAULT_PAGE = 20

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    total_count: Any  # an awaitable factory, so the COUNT runs only when asked for

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def encode_cursor(created_at: datetime, object_id: str) -> str:
    raw = f"{created_at.isoformat()}|{object_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, object_id = base64.urlsafe_b64decode(padded).decode().partition("|")
        parsed = datetime.fromisoformat(created)
        if not object_id or parsed.tzinfo is None:
            raise ValueError
        return parsed, object_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
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
    cursors = [encode_cursor(row.created_at, row.id) for row in rows]
    return Page(rows=rows, cursors=cursors, has_next_page=has_next, total_count=total_count)


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
    columns: Sequence[str]


async def paginate_rows(
    model: type[Model],
    columns: Sequence[str],
    where: dict[str, Any] | None,
    first: int | None,
    after: str | None,
    joins: Sequence[Join] = (),
    computed: Mapping[str, str] | None = None,
) -> Page[Row]:
    """The same keyset page as `paginate`, read with one hand-written SELECT into dicts (see
    services/sql.py): the `columns` (with `id` and `created_at`) of `model`'s table, and the
    `joins` in the same statement. `where` maps column names, which come from code, to the
    values they must equal; None means the caller may see nothing. `computed` adds columns:
    name → an SQL expression from code over the page's table `t`."""
    size = page_size(first)
    start = decode_cursor(after) if after else None
    if where is None:
        return Page(rows=[], cursors=[], has_next_page=False, total_count=_no_rows)
    # Table and column names come from code, every value is a parameter.
    names = [*where, *columns, *(c for join in joins for c in join.columns)]
    assert all(name.isidentifier() for name in names)
    table = model._meta.db_table
    conditions = " AND ".join(f"t.{column} = ?" for column in where)
    params: list[Any] = list(where.values())

    async def total_count() -> int:
        count = f"SELECT COUNT(*) AS n FROM {table} t WHERE {conditions}"  # noqa: S608
        [row] = await select(model, count, params)
        return int(row["n"])

    keyset = ""
    page_params = list(params)
    if start is not None:
        created = start[0].astimezone(UTC)  # SQLite compares the text Tortoise wrote, in UTC
        keyset = " AND (t.created_at < ? OR (t.created_at = ? AND t.id < ?))"
        page_params += [created, created, start[1]]
    computed = computed or {}
    selected = [f"t.{c}" for c in columns]
    selected += [f"({sql}) AS {name}" for name, sql in computed.items()]
    joined = []
    for n, join in enumerate(joins):
        alias = f"j{n}"
        selected += [f"{alias}.{c} AS {join.name}__{c}" for c in join.columns]
        joined.append(
            f" LEFT JOIN {join.model._meta.db_table} {alias} ON {alias}.id = t.{join.column}"
        )
    records = await select_tuples(
        model,
        f"SELECT {', '.join(selected)} FROM {table} t{''.join(joined)} "  # noqa: S608
        f"WHERE {conditions}{keyset} ORDER BY t.created_at DESC, t.id DESC LIMIT ?",
        [*page_params, size + 1],
    )
    has_next = len(records) > size
    records = records[:size]
    # The page's own columns and the computed ones come first, then each join's columns.
    own = [*columns, *computed]
    parts = []
    offset = len(own)
    for join in joins:
        width = len(join.columns)
        parts.append((join.name, join.columns, offset, offset + width, join.columns.index("id")))
        offset += width
    rows: list[Row] = []
    cursors = []
    for record in records:
        row = dict(zip(own, record, strict=False))
        row["created_at"] = created_at = as_datetime(row["created_at"])
        cursors.append(encode_cursor(created_at, row["id"]))  # type: ignore[arg-type]
        for name, columns, first_value, last_value, id_at in parts:
            values = record[first_value:last_value]
            row[name] = None if values[id_at] is None else dict(zip(columns, values, strict=True))
        rows.append(row)
    return Page(rows=rows, cursors=cursors, has_next_page=has_next, total_count=total_count)
