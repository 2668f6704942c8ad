"""The Customer type, with the lists a portal dashboard reads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

import models
from resolvers import billing as resolve
from resolvers import invoicing as resolve_invoicing
from resolvers import licensing as resolve_licensing
from resolvers.context import Context
from resolvers.types import Row
from schema.billing_types import (
    Invoice,
    Payment,
    PaymentMethod,
    Selection,
    Subscription,
    SubscriptionStatus,
    connection_selection,
    page_nodes,
    related_rows,
)
from schema.licensing import LicenseKey
from schema.types import Connection, Deferred, Node, connection

if TYPE_CHECKING:
    from schema.invoicing import BillingDetails


class _Once:
    """A row read at most once, by whichever field asks first."""

    def __init__(self, read: Callable[[], Awaitable[Row]]) -> None:
        self._read = read
        self._task: asyncio.Future[Row] | None = None

    async def row(self) -> Row:
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())
        return await self._task

    async def field(self, name: str) -> Any:
        return (await self.row())[name]


@strawberry.type(
    description="A customer of the business. Readable with the merchant's API key of its mode "
    "(customer, customers, node) and by the customer's own portal session (me)."
)
class Customer(Node):
    email: str = strawberry.field(
        description="Unique per business and mode, compared case-insensitively."
    )
    name: str | None = strawberry.field(description="Null when none was given.")
    phone_number: str | None = strawberry.field(description="E.164, e.g. +4915123456789.")
    locale: str | None = strawberry.field(
        description="en or de, as the customer chose; null: the business's language."
    )
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")

    @classmethod
    def from_model(cls, row: models.Customer) -> Customer:
        return cls(
            id=strawberry.ID(row.id),
            email=row.email,
            name=row.name,
            phone_number=row.phone_number,
            locale=row.locale,
            created_at=row.created_at,
        )

    @classmethod
    def of_session(cls, customer_id: str, read: Callable[[], Awaitable[Row]]) -> Customer:
        """The signed-in customer: the id comes from the session; the other fields read the
        customer's row once, when the query asks for one of them. The row is then read in
        the same turn as the lists the query asks for (one trip on SQLite) instead of before
        them."""
        row = _Once(read)
        return cls(
            id=strawberry.ID(customer_id),
            email=Deferred(row.field, "email"),  # type: ignore[arg-type]
            name=Deferred(row.field, "name"),  # type: ignore[arg-type]
            phone_number=Deferred(row.field, "phone_number"),  # type: ignore[arg-type]
            locale=Deferred(row.field, "locale"),  # type: ignore[arg-type]
            created_at=Deferred(row.field, "created_at"),  # type: ignore[arg-type]
        )

    @classmethod
    def from_row(cls, row: Row) -> Customer:
        return cls(
            id=strawberry.ID(row["id"]),
            email=row["email"],
            name=row["name"],
            phone_number=row["phone_number"],
            locale=row["locale"],
            created_at=row["created_at"],
        )

    @strawberry.field(description="Newest first; active and past.")
    async def subscriptions(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
        status: Annotated[
            SubscriptionStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
    ) -> Connection[Subscription]:
        return await subscriptions_of(
            info.context, str(self.id), connection_selection(info), first, after, status
        )

    @strawberry.field(
        description="Who buys, as invoices show it (the merchant's key or the customer)."
    )
    async def billing_details(
        self, info: Info[Context, None]
    ) -> Annotated[BillingDetails, strawberry.lazy("schema.invoicing")]:
        from schema.invoicing import BillingDetails as BillingDetailsView

        row = await resolve_invoicing.billing_details(info.context, str(self.id))
        return BillingDetailsView.of(row)

    @strawberry.field(description="Newest first.")
    async def invoices(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
    ) -> Connection[Invoice]:
        return await invoices_of(
            info.context, str(self.id), connection_selection(info), first, after
        )

    @strawberry.field(description="Newest first.")
    async def payments(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
    ) -> Connection[Payment]:
        return await payments_of(
            info.context, str(self.id), connection_selection(info), first, after
        )

    @strawberry.field(description="Keys issued with purchases, newest first.")
    async def license_keys(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
    ) -> Connection[LicenseKey]:
        return await license_keys_of(info.context, str(self.id), first, after)

    @strawberry.field(description="Saved cards, newest first.")
    async def payment_methods(self, info: Info[Context, None]) -> list[PaymentMethod]:
        return await payment_methods_of(info.context, str(self.id))


# The customer's lists, for the fields above and for planned queries (schema/query_plans.py).


async def subscriptions_of(
    ctx: Context,
    customer_id: str,
    selection: Selection,
    first: int | None = 20,
    after: str | None = None,
    status: Any = None,
) -> Connection[Subscription]:
    wanted = selection.nodes
    page = await resolve.customer_subscriptions(
        ctx, customer_id, first, after, status, related_rows(Subscription, wanted)
    )
    nodes = await page_nodes(ctx, Subscription, page.rows, wanted)
    return connection(page, nodes, cursors="cursor" in selection.edges)


async def invoices_of(
    ctx: Context,
    customer_id: str,
    selection: Selection,
    first: int | None = 20,
    after: str | None = None,
) -> Connection[Invoice]:
    related = related_rows(Invoice, selection.nodes)
    page = await resolve.customer_invoices(ctx, customer_id, first, after, related)
    nodes = await page_nodes(ctx, Invoice, page.rows, selection.nodes)
    return connection(page, nodes, cursors="cursor" in selection.edges)


async def payments_of(
    ctx: Context,
    customer_id: str,
    selection: Selection,
    first: int | None = 20,
    after: str | None = None,
) -> Connection[Payment]:
    related = related_rows(Payment, selection.nodes)
    page = await resolve.customer_payments(ctx, customer_id, first, after, related)
    nodes = await page_nodes(ctx, Payment, page.rows, selection.nodes)
    return connection(page, nodes, cursors="cursor" in selection.edges)


async def license_keys_of(
    ctx: Context, customer_id: str, first: int | None = 20, after: str | None = None
) -> Connection[LicenseKey]:
    page = await resolve_licensing.list_license_keys(ctx, first, after, customer_id=customer_id)
    return connection(page, [LicenseKey.from_row(row) for row in page.rows])


async def payment_methods_of(ctx: Context, customer_id: str) -> list[PaymentMethod]:
    rows = await resolve.customer_payment_methods(ctx, customer_id)
    return [PaymentMethod.from_row(row, ctx) for row in rows]
