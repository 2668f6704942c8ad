"""The merchant's payment gateway: Stripe for real money (or the test simulator)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import payments as resolve
from resolvers.context import Context
from schema.errors import UserError, payload
from schema.permissions import MERCHANT
from schema.types import PaymentGateway, PaymentGatewayProvider


@strawberry.input
class ConfigurePaymentGatewayInput:
    provider: PaymentGatewayProvider
    secret_key: str | None = strawberry.field(
        default=None,
        description="Stripe's secret key for the key's mode (sk_test_… or sk_live_…); kept "
        "sealed, never readable again.",
    )
    publishable_key: str | None = strawberry.field(
        default=None, description="Stripe's publishable key for the mode (pk_test_…/pk_live_…)."
    )
    webhook_secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_…) of the Stripe webhook endpoint pointed at "
        "/gateway/stripe/{businessId}/webhook; kept sealed.",
    )


@strawberry.type
class ConfigurePaymentGatewayPayload:
    payment_gateway: PaymentGateway | None
    user_errors: list[UserError]


@strawberry.type
class PaymentsMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: the gateway for the key's mode. INVALID_GATEWAY_KEY when a key "
        "does not fit the mode or Stripe refuses it.",
    )
    async def configure_payment_gateway(
        self, info: Info[Context, None], input: ConfigurePaymentGatewayInput
    ) -> ConfigurePaymentGatewayPayload:
        return await payload(
            info,
            ConfigurePaymentGatewayPayload,
            lambda: resolve.configure_payment_gateway(
                info.context,
                provider=input.provider,
                secret_key=input.secret_key,
                publishable_key=input.publishable_key,
                webhook_secret=input.webhook_secret,
            ),
            payment_gateway=PaymentGateway.from_info,
        )
