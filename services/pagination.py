"""Keyset pagination, newest first, on (created_at, id): stable while rows are added."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from services.errors import ServiceError

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
