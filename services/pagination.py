"""Keyset pagination, newest first, on (created_at, id): stable while rows are added. One pager
for every list: it decodes the cursor, asks its query for one row more than the page, and
tells whether there is a next page. A query is either the ORM's (`OrmPageQuery`, rows through
`.values()`) or a hand-written statement with related rows (services/billing/related_rows.py)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.ids import well_formed
from services.errors import ServiceError
from services.sql import Row

MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_CURSOR_LENGTH = 200

T = TypeVar("T")
Key = tuple[datetime, str]  # (created_at, id): what a cursor encodes


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    keys: list[Key]
    has_next_page: bool
    # Runs the COUNT only when a query asks for totalCount.
    total_count: Callable[[], Awaitable[int]]

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


async def no_rows() -> int:
    return 0


EMPTY: Page[Any] = Page(rows=[], keys=[], has_next_page=False, total_count=no_rows)


class PageQuery(Protocol):
    """The rows of one list, newest first."""

    async def rows(self, limit: int, after: Key | None) -> list[Row]:
        """At most `limit` typed rows (with `id` and `created_at`) before `after`."""
        ...

    async def count(self) -> int: ...


async def keyset_page(query: PageQuery | None, first: int | None, after: str | None) -> Page[Row]:
    """A page of `query`'s rows; `query` None means the caller may see nothing (an empty page,
    after the arguments were checked like any other's)."""
    size = page_size(first)
    start = decode_cursor(after) if after else None
    if query is None:
        return EMPTY
    rows = await query.rows(size + 1, start)
    has_next = len(rows) > size
    rows = rows[:size]
    keys = [(row["created_at"], row["id"]) for row in rows]
    return Page(rows=rows, keys=keys, has_next_page=has_next, total_count=query.count)


@dataclass(frozen=True)
class OrmPageQuery:
    """A list the ORM filters (any condition its QuerySet can say), read with `.values()`."""

    query: QuerySet[Any]
    columns: Sequence[str]

    async def rows(self, limit: int, after: Key | None) -> list[Row]:
        query = self.query
        if after is not None:
            created, object_id = after
            # The first bound alone is a range on the (…, created_at, id) index.
            query = query.filter(created_at__lte=created).filter(
                Q(created_at__lt=created) | Q(created_at=created, id__lt=object_id)
            )
        ordered = query.order_by("-created_at", "-id").limit(limit)
        return list(await ordered.values(*self.columns))

    async def count(self) -> int:
        return await self.query.count()
