"""The merchant's payment gateway: Stripe for real money (or the test simulator)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import payments as resolve
from resolvers.context import Context
from schema.errors import UserError, payload
from schema.permissions import MERCHANT
from schema.types import PaymentGateway, PaymentGatewayProvider


@strawberry.input(
    description="The gateway for the key's mode. STRIPE needs all three keys; TEST (test mode "
    "only) needs none."
)
class ConfigurePaymentGatewayInput:
    provider: PaymentGatewayProvider = strawberry.field(description="TEST or STRIPE.")
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


@strawberry.type(description="The result of configurePaymentGateway.")
class ConfigurePaymentGatewayPayload:
    payment_gateway: PaymentGateway | None = strawberry.field(
        description="The gateway as it is now; null on failure (nothing was saved)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_GATEWAY (TEST in live mode), INVALID_GATEWAY_KEY, "
        "GATEWAY_UNAVAILABLE (Stripe could not be asked)."
    )


@strawberry.type
class PaymentsMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: the gateway for the key's mode. INVALID_GATEWAY_KEY when a key "
        "does not fit the mode or Stripe refuses it; INVALID_GATEWAY for TEST in live mode; "
        "GATEWAY_UNAVAILABLE when Stripe could not be reached to check the key.",
    )
    async def configure_payment_gateway(
        self,
        info: Info[Context, None],
        input: Annotated[
            ConfigurePaymentGatewayInput,
            strawberry.argument(description="The provider and its keys."),
        ],
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
