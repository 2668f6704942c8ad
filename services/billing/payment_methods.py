"""Saved cards: the gateway's token and what may be shown of the card."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from models import Mode, PaymentMethod, Subscription, SubscriptionStatus
from models.clock import now
from models.ids import well_formed
from services.billing.columns import shown
from services.errors import ConfigurationError, InvalidState, NotFound
from services.events import payment_method_event
from services.payments.cards import CardDetails, check_card
from services.payments.gateway import SavedCard, gateway_for
from services.scope import Scope
from services.sql import Row, fetch_rows, placeholders, typed


def card_from_input(
    mode: Mode, number: str, exp_month: int, exp_year: int, cvc: str
) -> CardDetails:
    """Checks a raw card before any gateway call. Live mode never takes raw card numbers."""
    if mode == Mode.LIVE:
        raise ConfigurationError(
            "Live mode does not accept card numbers: it takes a token from the configured payment "
            "processor, and none is configured.",
            code="LIVE_PAYMENTS_NOT_CONFIGURED",
            field=["card"],
        )
    return check_card(number, exp_month, exp_year, cvc)


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


async def add_payment_method(scope: Scope, customer_id: str, card: CardDetails) -> PaymentMethod:
    """Saves a card after a zero-amount check by the gateway; refused cards are not saved."""
    saved = await gateway_for(scope.mode).save_card(card)
    async with in_transaction():
        method = await store_saved_card(scope, customer_id, saved)
        await payment_method_event("payment_method.added", method)
    return method


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
