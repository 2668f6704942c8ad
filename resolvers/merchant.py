"""What a merchant's API key may do with the business and its customers."""

from __future__ import annotations

from typing import Any

from models import Business, Customer
from resolvers.context import Context
from services import customers
from services.businesses import get_business
from services.pagination import Page


async def business(ctx: Context) -> Business:
    return await get_business(ctx.require_any())


async def customer(ctx: Context, customer_id: str) -> Customer:
    return await customers.get_customer(ctx.require_merchant(), customer_id)


async def list_customers(
    ctx: Context, first: int | None, after: str | None, email: str | None
) -> Page[Customer]:
    return await customers.list_customers(ctx.require_merchant(), first, after, email)


async def create_customer(
    ctx: Context, *, email: str, name: str | None, phone_number: str | None
) -> Customer:
    return await customers.create_customer(
        ctx.require_merchant(), email=email, name=name, phone_number=phone_number
    )


async def update_customer(ctx: Context, customer_id: str, changes: dict[str, Any]) -> Customer:
    return await customers.update_customer(ctx.require_merchant(), customer_id, **changes)
