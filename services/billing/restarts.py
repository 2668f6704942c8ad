"""Coming back: a CANCELLED or EXPIRED subscription restarted from the portal. It is a new
subscription on the same product at the product's current price, with a saved card or a new
one, charged at once through the first-charge path of createSubscription (idempotency key,
claim, charge, outcome), so it starts ACTIVE or ends FAILED exactly as a new one would. The
ended subscription stays as it was: its history (invoices, payments) is not touched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import SubscriptionStatus
from services.billing.charging import (
    BillingResult,
    CardInput,
    payment_gateway,
    resolve_source,
    with_idempotency,
)
from services.billing.products import get_product
from services.billing.subscriptions import get_subscription, start_subscription
from services.errors import InvalidState, ServiceError
from services.portal_settings import require_may_hold_another
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings

RESTARTABLE = (SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED)


async def restart_subscription(
    settings: Settings,
    scope: Scope,
    caller: str,
    *,
    subscription_id: str,
    card: CardInput,
    idempotency_key: str | None,
) -> BillingResult:
    gateway = await payment_gateway(settings, scope, card)
    request = {"subscription_id": subscription_id, **card.fingerprint()}

    async def work() -> BillingResult:
        ended = await get_subscription(scope, subscription_id)
        if ended.status not in RESTARTABLE:
            raise InvalidState(
                "Only a cancelled or expired subscription can be restarted.",
                field=["subscriptionId"],
            )
        product = await get_product(scope, ended.product_id)
        if not product.is_recurring or product.interval is None:
            raise ServiceError(
                "This product is not sold as a subscription any more.",
                code="INVALID_PRODUCT",
                field=["subscriptionId"],
            )
        await require_may_hold_another(scope, ended.customer_id, product.id)
        source = await resolve_source(gateway, scope, ended.customer_id, card)
        customer_id = ended.customer_id
        return await start_subscription(settings, gateway, scope, customer_id, product, source)

    return await with_idempotency(
        settings, scope, caller, idempotency_key, "restartSubscription", request, work
    )
