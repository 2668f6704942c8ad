"""The signed-in customer and their lists in one statement (services/billing/one_statement.py),
for the schema's compiled queries (schema/compiled_queries.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resolvers.context import Context
from services.billing.one_statement import (
    IDENTITY,
    JOINS,
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
from services.pagination import encode_cursor, page_size
from services.sql import as_datetime

__all__ = [
    "IDENTITY",
    "JOINS",
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
    "read_signed_in_customer",
    "readable",
]


async def read_signed_in_customer(
    ctx: Context, read: CustomerRead, limits: Sequence[int | None]
) -> tuple[Sequence[Any], list[Sequence[Sequence[Any]]]] | None:
    """The portal session's customer row and lists, as `read` says; None when the customer is
    not there."""
    return await read_customer(read, ctx.customer_scope(), ctx.customer_id, limits)
