"""Merchant API keys: `sk_test_…` / `sk_live_…`, shown once, stored as SHA-256."""

from __future__ import annotations

import secrets

from models import ApiKey, Business, Mode
from services.crypto import token_hash


async def create_api_key(business: Business, mode: Mode) -> tuple[ApiKey, str]:
    """Returns the row and the key itself, which is never retrievable again."""
    key = f"sk_{mode.value}_{secrets.token_urlsafe(32)}"
    row = await ApiKey.create(
        business=business, mode=mode, key_hash=token_hash(key), hint=f"sk_{mode.value}_…{key[-4:]}"
    )
    return row, key


async def authenticate_api_key(key: str) -> ApiKey | None:
    if not key.startswith(("sk_test_", "sk_live_")) or len(key) > 200:
        return None
    row = await ApiKey.get_or_none(key_hash=token_hash(key), revoked_at__isnull=True)
    if row is None or not key.startswith(f"sk_{row.mode.value}_"):
        return None
    return row
