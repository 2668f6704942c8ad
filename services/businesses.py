"""Businesses: created by the operator's CLI, read by merchants and their customers."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models import Business, InvoiceCounter, Mode
from services.access.api_keys import create_api_key
from services.errors import NotFound
from services.scope import Scope
from services.validation import clean_name, normalize_email


@dataclass(frozen=True)
class NewBusiness:
    business: Business
    test_api_key: str
    live_api_key: str


async def create_business(name: str, support_email: str, locale: str = "en") -> NewBusiness:
    name = clean_name(name)
    support_email = normalize_email(support_email, field=["supportEmail"])
    async with in_transaction():
        business = await Business.create(
            name=name, support_email=support_email, locale="de" if locale == "de" else "en"
        )
        for mode in Mode:
            await InvoiceCounter.create(business=business, mode=mode)
        _, test_key = await create_api_key(business, Mode.TEST)
        _, live_key = await create_api_key(business, Mode.LIVE)
    return NewBusiness(business, test_key, live_key)


async def get_business(scope: Scope) -> Business:
    business = await Business.get_or_none(id=scope.business_id)
    if business is None:
        raise NotFound("business")
    return business


def portal_login_url(public_url: str, business_id: str, mode: Mode) -> str:
    """The static link a merchant shares: customers type their email there."""
    prefix = "/test" if mode == Mode.TEST else ""
    return f"{public_url}{prefix}/login/{business_id}"
