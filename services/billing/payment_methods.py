"""Saved cards: the gateway's token and what may be shown of the card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from models import CardSetup, Customer, PaymentMethod, Subscription, SubscriptionStatus
from models.clock import now
from models.ids import well_formed
from services.billing.columns import shown
from services.errors import InvalidState, NotFound, ServiceError
from services.events import payment_method_event
from services.payments.gateway import NewCard, PaymentGateway, SavedCard
from services.payments.stripe_gateway import GatewayUnavailable, StripeGateway
from services.scope import Scope
from services.sql import Row, fetch_rows, placeholders, typed


async def store_saved_card(scope: Scope, customer_id: str, saved: SavedCard) -> PaymentMethod:
    return await PaymentMethod.create(
        business_id=scope.business_id,
        mode=scope.mode,
        customer_id=customer_id,
        gateway_token=saved.token,
        brand=saved.brand,
        last4=saved.last4,
        exp_month=saved.exp_month,
        exp_year=saved.exp_year,
    )


@dataclass(frozen=True)
class SavedOrPending:
    """A card saved, or waiting for the customer to authenticate its setup (3-D Secure)."""

    method: PaymentMethod | None
    client_secret: str | None = field(default=None, repr=False)  # for the browser; not stored


async def save_new_card(
    gateway: PaymentGateway, scope: Scope, customer: Customer, card: NewCard
) -> SavedOrPending:
    """Saves a card for later off-session charges, after the gateway's check (a zero-amount
    authorization; with a processor, a setup). When the bank wants the customer to
    authenticate, the setup is kept and the answer carries what the browser needs; the same
    call again after they did saves the card. Refused cards are not saved."""
    pending = None
    if card.gateway_id is not None:
        kept = await PaymentMethod.get_or_none(
            business_id=scope.business_id,
            mode=scope.mode,
            customer_id=customer.id,
            gateway_token=card.gateway_id,
            removed_at__isnull=True,
        )
        if kept is not None:  # saved already (the same call repeated): that card
            return SavedOrPending(kept)
        pending = await CardSetup.get_or_none(
            business_id=scope.business_id,
            mode=scope.mode,
            customer_id=customer.id,
            gateway_payment_method=card.gateway_id,
            completed_at__isnull=True,
        )
    try:
        if pending is not None:
            setup = await gateway.finish_setup(customer, pending.gateway_setup)
        else:
            setup = await gateway.save_card(customer, card)
    except GatewayUnavailable:
        raise ServiceError(
            "The payment processor could not be reached. Try again shortly.",
            code="GATEWAY_UNAVAILABLE",
            retryable=True,
        ) from None
    if setup.card is None:
        if pending is None:
            assert setup.setup_reference is not None and card.gateway_id is not None
            await CardSetup.create(
                business_id=scope.business_id,
                mode=scope.mode,
                customer_id=customer.id,
                gateway_setup=setup.setup_reference,
                gateway_payment_method=card.gateway_id,
            )
        return SavedOrPending(None, setup.client_secret)
    async with in_transaction():
        if pending is not None:
            done = await CardSetup.filter(id=pending.id, completed_at__isnull=True).update(
                completed_at=now()
            )
            if not done:  # finished at the same moment by another request: theirs is saved
                existing = await PaymentMethod.get_or_none(
                    customer_id=customer.id, gateway_token=setup.card.token, removed_at__isnull=True
                )
                if existing is not None:
                    return SavedOrPending(existing)
        method = await store_saved_card(scope, customer.id, setup.card)
        await payment_method_event("payment_method.added", method)
    return SavedOrPending(method)


async def add_payment_method(
    gateway: PaymentGateway, scope: Scope, customer_id: str, card: NewCard
) -> SavedOrPending:
    """The customer's new card, saved (or waiting for their bank)."""
    customer = await Customer.get(id=customer_id, business_id=scope.business_id, mode=scope.mode)
    return await save_new_card(gateway, scope, customer, card)


async def start_card_setup(gateway: PaymentGateway, scope: Scope, customer_id: str) -> str:
    """For a hosted page (or any browser client) of a business on Stripe: the client secret of
    a new SetupIntent on the customer's Stripe customer, for Stripe.js to save a card typed into
    Stripe's own fields. Nothing is recorded here: the PaymentMethod it makes is given to the
    usual mutations (gatewayPaymentMethodId) like any other."""
    if not isinstance(gateway, StripeGateway):
        raise ServiceError(
            "This business uses the test simulator, which takes test card numbers.",
            code="GATEWAY_NOT_CONFIGURED",
        )
    customer = await Customer.get(id=customer_id, business_id=scope.business_id, mode=scope.mode)
    try:
        return await gateway.start_setup(customer)
    except GatewayUnavailable:
        raise ServiceError(
            "The payment processor could not be reached. Try again shortly.",
            code="GATEWAY_UNAVAILABLE",
            retryable=True,
        ) from None


async def get_payment_method(scope: Scope, customer_id: str, method_id: str) -> PaymentMethod:
    method = (
        await PaymentMethod.get_or_none(
            id=method_id,
            business_id=scope.business_id,
            mode=scope.mode,
            customer_id=customer_id,
            removed_at__isnull=True,
        )
        if well_formed(method_id, "pm")
        else None
    )
    if method is None:
        raise NotFound("payment method", field=["paymentMethodId"])
    return method


async def remove_payment_method(scope: Scope, customer_id: str, method_id: str) -> PaymentMethod:
    method = await get_payment_method(scope, customer_id, method_id)
    in_use = await Subscription.filter(
        payment_method_id=method.id,
        status__in=[
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.ON_HOLD,
            SubscriptionStatus.PENDING,
        ],
    ).exists()
    if in_use:
        raise InvalidState(
            "This card pays for a subscription. Switch the subscription to another card first.",
            code="PAYMENT_METHOD_IN_USE",
            field=["paymentMethodId"],
        )
    async with in_transaction():
        method.removed_at = now()
        await method.save(update_fields=["removed_at"])
        await payment_method_event("payment_method.removed", method)
    return method


async def saved_cards_of(customer_ids: Sequence[str]) -> dict[str, list[Row]]:
    """The customers' cards that are not removed, newest first, as rows (services/sql.py)."""
    grouped: dict[str, list[Row]] = {customer_id: [] for customer_id in customer_ids}
    if not customer_ids:
        return grouped
    ids = placeholders(len(customer_ids))
    sql = (
        f"SELECT {', '.join(shown(PaymentMethod))} FROM payment_method "  # noqa: S608
        f"WHERE customer_id IN ({ids}) AND removed_at IS NULL ORDER BY created_at DESC, id DESC"
    )
    for row in await fetch_rows(sql, customer_ids):
        grouped[row["customer_id"]].append(typed(PaymentMethod, row))
    return grouped
