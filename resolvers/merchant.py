"""What a merchant's API key may do with the business and its customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import Business, Customer, Mode
from resolvers.context import Context
from services import customers
from services.business_settings import Branding, branding_of, time_zone_of
from services.businesses import get_business, portal_login_url
from services.pagination import Page
from services.sql import Row


@dataclass(frozen=True)
class BusinessProfile:
    """A business as its merchant and its customers see it, in the caller's mode."""

    business: Business
    portal_login_url: str
    branding: Branding
    # The portal's "Back to …" link: the session's link's returnUrl, else the default.
    return_url: str | None
    time_zone: str = "UTC"
    mode: Mode = Mode.TEST


def profile_of(ctx: Context, business: Business) -> BusinessProfile:
    return BusinessProfile(
        business=business,
        portal_login_url=portal_login_url(ctx.settings.public_url, business.id, ctx.scope().mode),
        branding=branding_of(business),
        return_url=ctx.principal.return_url or business.portal_return_url,
        time_zone=time_zone_of(business),
        mode=ctx.scope().mode,
    )


async def business(ctx: Context) -> BusinessProfile:
    return profile_of(ctx, await get_business(ctx.scope()))


async def customer(ctx: Context, customer_id: str) -> Customer:
    return await customers.get_customer(ctx.merchant_scope(), customer_id)


async def list_customers(
    ctx: Context, first: int | None, after: str | None, email: str | None
) -> Page[Row]:
    return await customers.list_customers(ctx.merchant_scope(), first, after, email)


async def create_customer(
    ctx: Context, *, email: str, name: str | None, phone_number: str | None
) -> Customer:
    return await customers.create_customer(
        ctx.merchant_scope(), email=email, name=name, phone_number=phone_number
    )


async def update_customer(ctx: Context, customer_id: str, changes: dict[str, Any]) -> Customer:
    return await customers.update_customer(ctx.merchant_scope(), customer_id, **changes)
