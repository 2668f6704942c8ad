"""Plan families (merchant) and plan changes (the customer's session or the merchant's key)."""

from __future__ import annotations

from collections.abc import Sequence

from models import PlanChange, PlanFamily, Product
from resolvers.context import Context
from services.billing import plan_changes, plan_checks, plan_families, scheduled_plan_changes
from services.billing.plan_checks import PlanChangePreview, PlanChangeResult
from services.billing.subscriptions import get_subscription
from services.portal_settings import CustomerAction, portal_settings, require_customer_may_in

__all__ = ["PlanChangePreview", "PlanChangeResult"]


async def plan_families_list(ctx: Context) -> list[PlanFamily]:
    return await plan_families.list_plan_families(ctx.merchant_scope())


async def products_of_families(ctx: Context, family_ids: Sequence[str]) -> dict[str, list[Product]]:
    return await plan_families.products_of_families(family_ids)


async def create_plan_family(ctx: Context, *, name: str, product_ids: list[str]) -> PlanFamily:
    return await plan_families.create_plan_family(
        ctx.merchant_scope(), name=name, product_ids=product_ids
    )


async def update_plan_family(
    ctx: Context, family_id: str, *, name: str | None, product_ids: list[str] | None
) -> PlanFamily:
    return await plan_families.update_plan_family(
        ctx.merchant_scope(), family_id, name=name, product_ids=product_ids
    )


async def plan_options(ctx: Context, subscription_id: str) -> list[Product]:
    """Empty for a customer whose business does not let customers change plans (as the
    invoice lists are when invoices are hidden): nothing to offer."""
    scope = ctx.scope()
    subscription = await get_subscription(scope, subscription_id)
    if scope.customer_id is not None:
        settings = await portal_settings(scope.business_id, scope.mode)
        if not settings.allows(CustomerAction.CHANGE_PLAN):
            return []
    return await plan_families.plan_options(await Product.get(id=subscription.product_id))


async def preview_plan_change(
    ctx: Context, subscription_id: str, product_id: str
) -> PlanChangePreview:
    await require_customer_may_in(ctx.scope(), CustomerAction.CHANGE_PLAN)
    return await plan_checks.preview_plan_change(ctx.scope(), subscription_id, product_id)


async def scheduled_plan_change(ctx: Context, subscription_id: str) -> PlanChange | None:
    return await scheduled_plan_changes.scheduled_change(ctx.scope(), subscription_id)


async def change_plan(
    ctx: Context, *, subscription_id: str, product_id: str, idempotency_key: str | None
) -> PlanChangeResult:
    # Taking back a scheduled change (cancelPlanChange) stays allowed, as resuming does.
    await require_customer_may_in(ctx.scope(), CustomerAction.CHANGE_PLAN)
    return await plan_changes.change_plan(
        ctx.settings,
        ctx.scope(),
        ctx.caller_id,
        subscription_id=subscription_id,
        product_id=product_id,
        idempotency_key=idempotency_key,
    )


async def cancel_plan_change(ctx: Context, subscription_id: str) -> PlanChangeResult:
    return await scheduled_plan_changes.cancel_plan_change(
        ctx.settings, ctx.scope(), subscription_id
    )


async def product(ctx: Context, product_id: str) -> Product:
    return await Product.get(id=product_id)
