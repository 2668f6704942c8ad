"""The payment gateway as a protocol, and the test-mode implementation with the documented test
cards. A real processor gets its own implementation of the same protocol."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol

from models import Mode
from services.errors import ConfigurationError
from services.payments.cards import CardDetails, CardError, card_brand


@dataclass(frozen=True)
class SavedCard:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


class PaymentGateway(Protocol):
    async def save_card(self, card: CardDetails) -> SavedCard:
        """Stores a card with the processor (a zero-amount authorization); CardError if refused."""
        ...

    async def charge(
        self, token: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Charges a saved card. The same idempotency key never charges twice: a repeat returns
        the first outcome, which is also how a payment left PROCESSING by a crash is settled."""
        ...

    async def charge_card(
        self, card: CardDetails, amount: int, currency: str, idempotency_key: str
    ) -> tuple[ChargeResult, SavedCard | None]:
        """Charges a card given inline; on success the card is also saved for later charges.
        A declined card is not saved."""
        ...


DECLINES = {
    "4000000000000002": ("CARD_DECLINED", "The card was declined."),
    "4000000000009995": ("INSUFFICIENT_FUNDS", "The card has insufficient funds."),
    "4000000000000069": ("EXPIRED_CARD", "The card has expired."),
    "4000000000000127": ("INCORRECT_CVC", "The card's security code is incorrect."),
    "4000000000000119": ("PROCESSING_ERROR", "An error occurred while processing the card."),
}
# Saves fine; every charge to it is declined.
DECLINE_ON_CHARGE = "4000000000000341"


class TestGateway:
    """Test mode: no network, no state. A token records how its card behaves, so a charge's
    outcome depends only on the token and a repeat with the same idempotency key gives the same
    result and reference."""

    async def save_card(self, card: CardDetails) -> SavedCard:
        if card.number in DECLINES:
            code, message = DECLINES[card.number]
            raise CardError(message, code=code, field=["card"])
        behaviour = "decline" if card.number == DECLINE_ON_CHARGE else "ok"
        return SavedCard(
            token=f"tok_test_{behaviour}_{secrets.token_hex(12)}",
            brand=card_brand(card.number),
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

    async def charge(
        self, token: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        reference = "ch_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        if not token.startswith("tok_test_") or amount <= 0:
            return ChargeResult(
                False, reference, "PROCESSING_ERROR", "The payment could not be processed."
            )
        if token.startswith("tok_test_decline_"):
            return ChargeResult(False, reference, "CARD_DECLINED", "The card was declined.")
        return ChargeResult(True, reference)

    async def charge_card(
        self, card: CardDetails, amount: int, currency: str, idempotency_key: str
    ) -> tuple[ChargeResult, SavedCard | None]:
        reference = "ch_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        if card.number in DECLINES:
            code, message = DECLINES[card.number]
            return ChargeResult(False, reference, code, message), None
        if card.number == DECLINE_ON_CHARGE:
            return ChargeResult(False, reference, "CARD_DECLINED", "The card was declined."), None
        saved = await self.save_card(card)
        return await self.charge(saved.token, amount, currency, idempotency_key), saved


class UnconfiguredLiveGateway:
    """Live mode without a processor: refuses clearly instead of pretending."""

    def _refuse(self) -> ConfigurationError:
        return ConfigurationError(
            "Live payments need a configured payment processor, and none is configured. "
            "Use test mode, or configure a processor.",
            code="LIVE_PAYMENTS_NOT_CONFIGURED",
        )

    async def save_card(self, card: CardDetails) -> SavedCard:
        raise self._refuse()

    async def charge(
        self, token: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        raise self._refuse()

    async def charge_card(
        self, card: CardDetails, amount: int, currency: str, idempotency_key: str
    ) -> tuple[ChargeResult, SavedCard | None]:
        raise self._refuse()


_TEST = TestGateway()
_LIVE = UnconfiguredLiveGateway()


def gateway_for(mode: Mode) -> PaymentGateway:
    return _TEST if mode == Mode.TEST else _LIVE


def require_configured(mode: Mode) -> None:
    """Refuses before anything is recorded when the mode has no processor."""
    gateway = gateway_for(mode)
    if isinstance(gateway, UnconfiguredLiveGateway):
        raise gateway._refuse()
