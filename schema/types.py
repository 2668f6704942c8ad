"""Object types: views over models, built with `from_model`, with plain attribute fields."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

import strawberry

import models
from services.businesses import portal_login_url
from services.pagination import Page

Mode = strawberry.enum(models.Mode, description="TEST or LIVE; it comes from the credential.")


@strawberry.interface(description="An object with a globally unique, prefixed id.")
class Node:
    id: strawberry.ID


@strawberry.type
class Business(Node):
    name: str
    support_email: str
    portal_login_url: str = strawberry.field(
        description="The static login link for the caller's mode: share it with customers."
    )

    @classmethod
    def from_model(cls, row: models.Business, mode: models.Mode, public_url: str) -> Business:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            support_email=row.support_email,
            portal_login_url=portal_login_url(public_url, row.id, mode),
        )


@strawberry.type
class PortalSession:
    link: str = strawberry.field(description="One-time link into the portal.")
    expires_at: datetime


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


T = TypeVar("T")


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _page: strawberry.Private[Page[object]]

    @strawberry.field(description="All matching objects, across pages.")
    async def total_count(self) -> int:
        return await self._page.total_count()


def connection(page: Page[object], nodes: list[T]) -> Connection[T]:
    edges = [
        Edge(node=node, cursor=cursor) for node, cursor in zip(nodes, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        _page=page,
    )
