"""A business's payment gateway per mode, and the card input each gateway takes.

TEST is the simulator with the documented test cards, for test mode only (and what a test-mode
business without a configuration uses). STRIPE takes a secret key, a publishable key and a
webhook signing secret: `sk_test_`/`pk_test_` keys in test mode, `sk_live_`/`pk_live_` in live
mode. The secret key and the webhook secret are sealed at rest and never read back through the
API. A live-mode business without a configured gateway answers LIVE_PAYMENTS_NOT_CONFIGURED.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from models import GatewayProvider, Mode, PaymentGatewayConfig
from models.clock import now
from services.crypto import SecretBox
from services.errors import ConfigurationError, ServiceError
from services.payments.cards import CardDetails, RawCard, check_card
from services.payments.gateway import NewCard, PaymentGateway, TestGateway
from services.payments.stripe_gateway import GatewayUnavailable, StripeGateway
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings

TEST_GATEWAY = TestGateway()
_STRIPE_KEY = re.compile(r"(sk|rk|pk)_(test|live)_[A-Za-z0-9_]{1,240}")
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_+/=]{1,240}")
_PAYMENT_METHOD = re.compile(r"pm_[A-Za-z0-9_]{1,200}")


def _box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret_key)


def not_configured() -> ConfigurationError:
    return ConfigurationError(
        "Live payments need a configured payment gateway, and none is configured. Use test "
        "mode, or configure Stripe with configurePaymentGateway.",
        code="LIVE_PAYMENTS_NOT_CONFIGURED",
    )


async def _config(scope: Scope) -> PaymentGatewayConfig | None:
    return await PaymentGatewayConfig.get_or_none(business_id=scope.business_id, mode=scope.mode)


def _gateway_of(settings: Settings, config: PaymentGatewayConfig) -> PaymentGateway:
    if config.provider == GatewayProvider.STRIPE:
        assert config.secret_key is not None
        return StripeGateway(
            _box(settings).open(config.secret_key), config.publishable_key, settings.stripe_api_base
        )
    return TEST_GATEWAY


async def gateway_for(settings: Settings, scope: Scope) -> PaymentGateway:
    """The gateway that takes the scope's business's payments in its mode."""
    config = await _config(scope)
    if config is not None:
        return _gateway_of(settings, config)
    if scope.mode == Mode.TEST:
        return TEST_GATEWAY
    raise not_configured()


def new_card(gateway: PaymentGateway, card: RawCard | None, gateway_id: str | None) -> NewCard:
    """The card a request gives, as its gateway takes it: raw card numbers only for the
    simulator (a Stripe business refuses them before anything else happens), the processor's
    payment method only for a processor."""
    if card is not None and gateway_id is not None:
        raise ServiceError(
            "Give either card or gatewayPaymentMethodId.", code="INVALID_INPUT", field=["card"]
        )
    if card is not None:
        if gateway.provider != GatewayProvider.TEST:
            raise ServiceError(
                "This business takes cards through its payment processor's own fields: send the "
                "gatewayPaymentMethodId that Stripe.js made, never the card's number.",
                code="CARD_DATA_NOT_ACCEPTED",
                field=["card"],
            )
        details: CardDetails = check_card(card.number, card.exp_month, card.exp_year, card.cvc)
        return NewCard(details=details)
    assert gateway_id is not None
    if gateway.provider == GatewayProvider.TEST:
        raise ServiceError(
            "This business uses the test simulator, which takes test card numbers, not a "
            "processor's payment method.",
            code="GATEWAY_NOT_CONFIGURED",
            field=["gatewayPaymentMethodId"],
        )
    if not _PAYMENT_METHOD.fullmatch(gateway_id):
        raise ServiceError(
            "gatewayPaymentMethodId must be a Stripe PaymentMethod id (pm_…).",
            code="INVALID_INPUT",
            field=["gatewayPaymentMethodId"],
        )
    return NewCard(gateway_id=gateway_id)


# The merchant's configuration


@dataclass(frozen=True)
class GatewayInfo:
    """What anybody may know of a business's gateway: never its secrets."""

    provider: GatewayProvider
    publishable_key: str | None
    configured_at: datetime | None


async def gateway_info(scope: Scope) -> GatewayInfo | None:
    config = await _config(scope)
    if config is not None:
        return GatewayInfo(config.provider, config.publishable_key, config.configured_at)
    if scope.mode == Mode.TEST:
        return GatewayInfo(GatewayProvider.TEST, None, None)
    return None


def _invalid(message: str, field: str) -> ServiceError:
    return ServiceError(message, code="INVALID_GATEWAY_KEY", field=[field])


async def configure_gateway(
    settings: Settings,
    scope: Scope,
    *,
    provider: GatewayProvider,
    secret_key: str | None,
    publishable_key: str | None,
    webhook_secret: str | None,
) -> GatewayInfo:
    """Sets the business's gateway for the scope's mode; Stripe's keys are checked for the mode
    and with Stripe before they are kept."""
    if provider == GatewayProvider.TEST:
        if scope.mode != Mode.TEST:
            raise ServiceError(
                "The test simulator takes test-mode payments only.",
                code="INVALID_GATEWAY",
                field=["provider"],
            )
        fields: dict[str, Any] = {
            "secret_key": None,
            "publishable_key": None,
            "webhook_secret": None,
        }
    else:
        prefix = scope.mode.value  # "test" or "live"
        secret_key = (secret_key or "").strip()
        publishable_key = (publishable_key or "").strip()
        webhook_secret = (webhook_secret or "").strip()
        if not (_STRIPE_KEY.fullmatch(secret_key) and secret_key.startswith(f"sk_{prefix}_")):
            raise _invalid(f"The secret key must be a Stripe sk_{prefix}_… key.", "secretKey")
        if not (
            _STRIPE_KEY.fullmatch(publishable_key) and publishable_key.startswith(f"pk_{prefix}_")
        ):
            raise _invalid(
                f"The publishable key must be a Stripe pk_{prefix}_… key.", "publishableKey"
            )
        if not _WEBHOOK_SECRET.fullmatch(webhook_secret):
            raise _invalid("The webhook secret must be Stripe's whsec_… secret.", "webhookSecret")
        try:
            await StripeGateway(secret_key, publishable_key, settings.stripe_api_base).verify()
        except GatewayUnavailable as refused:
            if refused.args and refused.args[0] == "AuthenticationError":
                raise _invalid("Stripe does not accept this secret key.", "secretKey") from None
            raise ServiceError(
                "Stripe could not be reached to check the key. Try again in a moment.",
                code="GATEWAY_UNAVAILABLE",
                retryable=True,
            ) from None
        box = _box(settings)
        fields = {
            "secret_key": box.seal(secret_key),
            "publishable_key": publishable_key,
            "webhook_secret": box.seal(webhook_secret),
        }
    changes: dict[str, Any] = {"provider": provider, **fields, "configured_at": now()}
    where: dict[str, Any] = {"business_id": scope.business_id, "mode": scope.mode}
    if not await PaymentGatewayConfig.filter(**where).update(**changes):
        try:
            await PaymentGatewayConfig.create(**where, **changes)
        except IntegrityError:  # configured at the same moment elsewhere: this one wins
            await PaymentGatewayConfig.filter(**where).update(**changes)
    info = await gateway_info(scope)
    assert info is not None
    return info


async def webhook_secret_for(settings: Settings, business_id: str, mode: Mode) -> str | None:
    config = await PaymentGatewayConfig.get_or_none(
        business_id=business_id, mode=mode, provider=GatewayProvider.STRIPE
    )
    if config is None or config.webhook_secret is None:
        return None
    return _box(settings).open(config.webhook_secret)


async def stripe_gateway_of(settings: Settings, business_id: str, mode: Mode) -> StripeGateway:
    config = await PaymentGatewayConfig.get(
        business_id=business_id, mode=mode, provider=GatewayProvider.STRIPE
    )
    gateway = _gateway_of(settings, config)
    assert isinstance(gateway, StripeGateway)
    return gateway
