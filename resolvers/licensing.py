"""License keys: the merchant's view and settings, the customer's keys and devices, and the
public API that licensed software calls with nothing but the key."""

from __future__ import annotations

from datetime import datetime

from models import LicenseKey, LicenseKeyInstance, LicenseKeyStatus
from resolvers.context import Context
from services import licensing
from services.pagination import Page


async def _limit_public_call(ctx: Context, key: str) -> None:
    settings = ctx.settings
    await ctx.limiter.check(settings.rate_limit_license_ip, "license-ip", ctx.client_ip)
    await ctx.limiter.check(settings.rate_limit_license_key, "license-key", key.strip().upper())


async def activate(ctx: Context, key: str, name: str) -> LicenseKeyInstance:
    await _limit_public_call(ctx, key)
    return await licensing.activate_license_key(key, name)


async def validate(ctx: Context, key: str, instance_id: str | None) -> licensing.Validation:
    await _limit_public_call(ctx, key)
    return await licensing.validate_license_key(key, instance_id)


async def deactivate(ctx: Context, key: str, instance_id: str) -> LicenseKeyInstance:
    await _limit_public_call(ctx, key)
    return await licensing.deactivate_license_key(key, instance_id)


async def license_key(ctx: Context, key_id: str) -> LicenseKey:
    return await licensing.get_license_key(ctx.require_any(), key_id)


async def list_license_keys(
    ctx: Context,
    first: int | None,
    after: str | None,
    *,
    customer_id: str | None = None,
    product_id: str | None = None,
    status: LicenseKeyStatus | None = None,
) -> Page[LicenseKey]:
    return await licensing.list_license_keys(
        ctx.require_any(),
        first,
        after,
        customer_id=customer_id,
        product_id=product_id,
        status=status,
    )


async def update_license_key(
    ctx: Context,
    key_id: str,
    *,
    activations_limit: int | None,
    disabled: bool | None,
    expires_at: datetime | None,
    clear: frozenset[str],
) -> LicenseKey:
    return await licensing.update_license_key(
        ctx.require_merchant(),
        key_id,
        activations_limit=activations_limit,
        disabled=disabled,
        expires_at=expires_at,
        clear=clear,
    )


async def deactivate_own_instance(ctx: Context, instance_id: str) -> LicenseKeyInstance:
    return await licensing.deactivate_instance_of_customer(ctx.require_customer(), instance_id)
