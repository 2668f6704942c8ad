"""The signed-in customer and their lists in one statement (services/billing/one_statement.py),
for the schema's compiled queries (schema/compiled_queries.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resolvers.context import Context
from services.billing.one_statement import (
    IDENTITY,
    JOINS,
    MAX_COLUMNS,
    SUBSCRIPTION_OUTSTANDING,
    Convert,
    CustomerRead,
    ListRead,
    RowRead,
    converter,
    customer_list,
    read_customer,
    readable,
)
from services.billing.one_statement import (
    read_customer_of_session as read_customer_with_session,
)
from services.pagination import encode_cursor, page_size
from services.sql import as_datetime

__all__ = [
    "IDENTITY",
    "JOINS",
    "MAX_COLUMNS",
    "SUBSCRIPTION_OUTSTANDING",
    "Convert",
    "CustomerRead",
    "ListRead",
    "RowRead",
    "as_datetime",
    "converter",
    "customer_list",
    "encode_cursor",
    "page_size",
    "read_customer_of_session",
    "read_signed_in_customer",
    "readable",
]


async def read_customer_of_session(
    ctx: Context, read: CustomerRead, limits: Sequence[int | None]
) -> tuple[Sequence[Any], list[Sequence[Sequence[Any]]]] | None:
    """The same for a request whose session row was not read yet: read with the data, and on
    success the request's principal is the session's customer (Context.confirmed)."""
    claims = ctx.unconfirmed
    assert claims is not None
    found = await read_customer_with_session(read, claims.session_id, claims.customer_id, limits)
    if found is None:
        return None
    session, rows = found
    ctx.confirmed(session)
    return rows


async def read_signed_in_customer(
    ctx: Context, read: CustomerRead, limits: Sequence[int | None]
) -> tuple[Sequence[Any], list[Sequence[Sequence[Any]]]] | None:
    """The portal session's customer row and lists, as `read` says; None when the customer is
    not there."""
    return await read_customer(read, ctx.customer_scope(), ctx.customer_id, limits)
