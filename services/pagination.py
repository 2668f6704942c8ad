"""Keyset pagination, newest first, on (created_at, id): stable while rows are added. One pager
for every list: it decodes the cursor, asks its query for one row more than the page, and
tells whether there is a next page. A query is either the ORM's (`OrmPageQuery`, rows through
`.values()`) or a hand-written statement with related rows (services/billing/related_rows.py).

Costs that do not grow with the data (README, "Costs that do not grow with data"):
- a page after a cursor is a range of an index in the list's order (tenant columns, then
  `created_at, id`), whatever its depth: the hand-written statements say
  `(created_at, id) < (?, ?)`, the ORM's `created_at <= ? AND (created_at < ? OR id < ?)`;
- `totalCount` counts at most `COUNT_CAP` rows: past that it says `COUNT_CAP` and
  `totalCountCapped` is true (a COUNT of a LIMITed subquery, so it reads at most that many
  index entries).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from models.ids import well_formed
from services.errors import ServiceError
from services.sql import Row

MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_CURSOR_LENGTH = 200
# totalCount counts this many rows at most (see TotalCount).
COUNT_CAP = 10_000

T = TypeVar("T")
Key = tuple[datetime, str]  # (created_at, id): what a cursor encodes


@dataclass(frozen=True)
class TotalCount:
    """How many rows a list has, counted up to COUNT_CAP: `count` is exact when `capped` is
    false; when more than COUNT_CAP rows match, `count` is COUNT_CAP and `capped` true."""

    count: int
    capped: bool


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    keys: list[Key]
    has_next_page: bool
    # Counts at most `limit` rows; run only when a query asks for totalCount.
    count_rows: Callable[[int], Awaitable[int]]
    # The one count of this page's list, shared by totalCount and totalCountCapped.
    _counted: dict[str, asyncio.Future[TotalCount]] = field(
        default_factory=dict, compare=False, repr=False
    )

    async def total(self) -> TotalCount:
        """The list's count (one statement, however many fields ask for it)."""
        pending = self._counted.get("total")
        if pending is None:
            pending = self._counted["total"] = asyncio.ensure_future(self._count())
        return await pending

    async def _count(self) -> TotalCount:
        found = await self.count_rows(COUNT_CAP + 1)
        return TotalCount(min(found, COUNT_CAP), found > COUNT_CAP)

    async def total_count(self) -> int:
        return (await self.total()).count

    def cursor(self, index: int) -> str:
        """Encoded when asked for: most queries never read the cursor of every edge."""
        return encode_cursor(*self.keys[index])

    @property
    def end_cursor(self) -> str | None:
        return self.cursor(-1) if self.keys else None


def encode_cursor(created_at: datetime, object_id: str) -> str:
    raw = f"{created_at.isoformat()}|{object_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
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


async def no_rows(limit: int) -> int:
    return 0


def empty_page() -> Page[Any]:
    return Page(rows=[], keys=[], has_next_page=False, count_rows=no_rows)


class PageQuery(Protocol):
    """The rows of one list, newest first."""

    async def rows(self, limit: int, after: Key | None) -> list[Row]:
        """At most `limit` typed rows (with `id` and `created_at`) before `after`."""
        ...

    async def count(self, limit: int) -> int:
        """How many rows the list has, counting at most `limit`."""
        ...


async def keyset_page(query: PageQuery | None, first: int | None, after: str | None) -> Page[Row]:
    """A page of `query`'s rows; `query` None means the caller may see nothing (an empty page,
    after the arguments were checked like any other's)."""
    size = page_size(first)
    start = decode_cursor(after) if after else None
    if query is None:
        return empty_page()
    rows = await query.rows(size + 1, start)
    has_next = len(rows) > size
    rows = rows[:size]
    keys = [(row["created_at"], row["id"]) for row in rows]
    return Page(rows=rows, keys=keys, has_next_page=has_next, count_rows=query.count)


@dataclass(frozen=True)
class OrmPageQuery:
    """A list the ORM filters (any condition its QuerySet can say), read with `.values()`."""

    query: QuerySet[Any]
    columns: Sequence[str]

    async def rows(self, limit: int, after: Key | None) -> list[Row]:
        query = self.query
        if after is not None:
            created, object_id = after
            # The ORM has no row comparison: the first bound is the range on the
            # (…, created_at, id) index, the rest a filter of the rows at that very instant.
            query = query.filter(created_at__lte=created).filter(
                Q(created_at__lt=created) | Q(created_at=created, id__lt=object_id)
            )
        ordered = query.order_by("-created_at", "-id").limit(limit)
        return list(await ordered.values(*self.columns))

    async def count(self, limit: int) -> int:
        # Tortoise's count() applies a limit after a full COUNT(*): the LIMIT goes into a
        # subquery instead, so that at most `limit` index entries are read.
        model = self.query.model
        limited = self.query.order_by().limit(limit).values("id")
        return int(await model.filter(id__in=Subquery(limited)).count())
