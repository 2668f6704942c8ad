"""Portal settings (the merchant sets them; the business's portal sessions read them), and the
customer actions they govern that are new with them: pausing, resuming and restarting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models import Mode, Subscription
from resolvers.context import Context
from services import portal_settings
from services.billing import pauses, restarts
from services.billing.charging import BillingResult, CardInput
from services.portal_settings import CustomerAction, PortalSettingsValues, require_customer_may_in


async def settings_of(ctx: Context) -> PortalSettingsValues:
    scope = ctx.scope()
    return await portal_settings.portal_settings(scope.business_id, scope.mode)


async def settings_for(business_id: str, mode: Mode) -> PortalSettingsValues:
    """For Business.portalSettings: the business and mode of a view the caller may read."""
    return await portal_settings.portal_settings(business_id, mode)


async def update_portal_settings(ctx: Context, changes: dict[str, Any]) -> PortalSettingsValues:
    return await portal_settings.update_portal_settings(ctx.merchant_scope(), changes)


async def pause_subscription(
    ctx: Context, subscription_id: str, *, at_period_end: bool, resume_at: datetime | None
) -> Subscription:
    scope = ctx.scope()
    await require_customer_may_in(scope, CustomerAction.PAUSE)
    return await pauses.pause_subscription(
        ctx.settings,
        scope,
        subscription_id,
        at_period_end=at_period_end,
        resume_at=resume_at,
        notify_customer=ctx.is_customer,
    )


async def resume_subscription(
    ctx: Context, subscription_id: str, *, resume_at: datetime | None
) -> Subscription:
    """Resuming is never refused by the settings: a merchant who stops offering pauses does not
    keep customers from coming back."""
    return await pauses.resume_subscription(
        ctx.settings,
        ctx.scope(),
        subscription_id,
        resume_at=resume_at,
        notify_customer=ctx.is_customer,
    )


async def restart_subscription(
    ctx: Context, subscription_id: str, *, card: CardInput, idempotency_key: str | None
) -> BillingResult:
    scope = ctx.customer_scope()
    await require_customer_may_in(scope, CustomerAction.RESTART)
    return await restarts.restart_subscription(
        ctx.settings,
        scope,
        ctx.caller_id,
        subscription_id=subscription_id,
        card=card,
        idempotency_key=idempotency_key,
    )
