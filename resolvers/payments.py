"""A business's payment gateway: the merchant configures it; its portal sessions and keys read
what may be known of it (never its secrets); the processor's webhooks reach it."""

from __future__ import annotations

from models import GatewayProvider
from resolvers.context import Context
from services.payments import gateway_config
from services.payments.gateway_config import GatewayInfo
from services.payments.stripe_webhooks import WebhookAnswer, handle_stripe_webhook
from services.settings import Settings


async def payment_gateway(ctx: Context) -> GatewayInfo | None:
    return await gateway_config.gateway_info(ctx.scope())


async def configure_payment_gateway(
    ctx: Context,
    *,
    provider: GatewayProvider,
    secret_key: str | None,
    publishable_key: str | None,
    webhook_secret: str | None,
) -> GatewayInfo:
    return await gateway_config.configure_gateway(
        ctx.settings,
        ctx.merchant_scope(),
        provider=provider,
        secret_key=secret_key,
        publishable_key=publishable_key,
        webhook_secret=webhook_secret,
    )


async def stripe_webhook(
    settings: Settings, business_id: str, payload: bytes, signature: str | None
) -> WebhookAnswer:
    """Public: the signature is the credential."""
    return await handle_stripe_webhook(settings, business_id, payload, signature)
