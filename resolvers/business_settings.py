"""A business's settings: the merchant changes them; the static login page reads its look."""

from __future__ import annotations

from typing import Any

from resolvers.context import Context
from resolvers.merchant import BusinessProfile, profile_of
from services import business_settings, persisted_documents


async def update_business(ctx: Context, changes: dict[str, Any]) -> BusinessProfile:
    business = await business_settings.update_business(
        ctx.merchant_scope(), ctx.settings.public_url, **changes
    )
    return profile_of(ctx, business)


async def portal_branding(ctx: Context, business_id: str) -> business_settings.Branding | None:
    """Public: the static login page shows whose portal it is. Business ids are 120 random bits,
    so this tells nothing to someone who was not given the link."""
    business = await business_settings.find_business(business_id)
    return business_settings.branding_of(business) if business is not None else None


async def register_trusted_documents(ctx: Context, documents: list[str]) -> list[str]:
    """The documents' SHA-256 hashes, in the order given (services/persisted_documents.py)."""
    return await persisted_documents.register_trusted_documents(
        ctx.merchant_scope().business_id, documents
    )
