"""License keys: the merchant's view and settings, the customer's keys and devices, and the
public API that licensed software calls with nothing but the key."""

from __future__ import annotations

from datetime import datetime

from models import LicenseKey, LicenseKeyInstance, LicenseKeyStatus, SubscriptionStatus
from resolvers.context import Context
from services import licensing
from services.pagination import Page
from services.sql import Row


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
    return await licensing.get_license_key(ctx.scope(), key_id)


async def list_license_keys(
    ctx: Context,
    first: int | None,
    after: str | None,
    *,
    customer_id: str | None = None,
    product_id: str | None = None,
    status: LicenseKeyStatus | None = None,
) -> Page[Row]:
    return await licensing.list_license_keys(
        ctx.scope(),
        first,
        after,
        customer_id=customer_id,
        product_id=product_id,
        status=status,
        reader=ctx.loaders.page_rows.load,
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
        ctx.merchant_scope(),
        key_id,
        activations_limit=activations_limit,
        disabled=disabled,
        expires_at=expires_at,
        clear=clear,
    )


async def rotate_license_key(ctx: Context, key_id: str) -> LicenseKey:
    return await licensing.rotate_license_key(ctx.settings, ctx.merchant_scope(), key_id)


async def deactivate_own_instance(ctx: Context, instance_id: str) -> LicenseKeyInstance:
    return await licensing.deactivate_instance_of_customer(ctx.customer_scope(), instance_id)


def status(
    disabled: bool, expires_at: datetime | None, subscription: Row | None
) -> LicenseKeyStatus:
    """A key's status: DISABLED by the merchant (or suspended while its subscription is paused
    past its paid period), EXPIRED past its date or once its subscription has ended, else
    ACTIVE."""
    subscription_status = SubscriptionStatus(subscription["status"]) if subscription else None
    paid_until = subscription["next_billing_date"] if subscription else None
    return licensing.status_of(disabled, expires_at, subscription_status, paid_until)
