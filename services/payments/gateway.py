"""The payment gateway: a protocol with one implementation per processor, chosen per business and
mode. `TestGateway` is the simulator with the documented test cards (test mode); `StripeGateway`
(services/payments/stripe_gateway.py) takes real money. A business's configuration lives in
services/payments/gateway_config.py."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from models import Customer, GatewayProvider, Payment
from services.payments.cards import CardDetails, CardError, card_brand


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"  # the customer's bank wants them to authenticate
    PROCESSING = "processing"  # the processor will tell later (its webhook)


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str | None = None  # the processor's charge (a PaymentIntent's id)
    failure_code: str | None = None
    failure_message: str | None = None
    # For REQUIRES_ACTION: what the customer's browser needs to authenticate. Never stored.
    client_secret: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == ChargeStatus.SUCCEEDED

    @property
    def final(self) -> bool:
        return self.status in (ChargeStatus.SUCCEEDED, ChargeStatus.FAILED)

    @classmethod
    def failed(cls, code: str, message: str, reference: str | None = None) -> ChargeResult:
        return cls(ChargeStatus.FAILED, reference, code, message)


@dataclass(frozen=True)
class SavedCard:
    """A card the processor keeps for later charges: its token and what may be shown."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class NewCard:
    """A card given to a mutation: a raw card (the simulator only) or the processor's payment
    method made in the customer's browser (`pm_…`, Stripe)."""

    details: CardDetails | None = None
    gateway_id: str | None = None


@dataclass(frozen=True)
class SetupResult:
    """Saving a card without a charge: saved, or waiting for the customer to authenticate."""

    card: SavedCard | None
    setup_reference: str | None = None
    client_secret: str | None = None  # never stored


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str | None = None  # the processor's refund
    failure_message: str | None = None


class PaymentGateway(Protocol):
    provider: GatewayProvider
    publishable_key: str | None

    async def save_card(self, customer: Customer, card: NewCard) -> SetupResult:
        """Keeps a card for later off-session charges; CardError when refused."""
        ...

    async def finish_setup(self, customer: Customer, setup_reference: str) -> SetupResult:
        """After the customer authenticated a setup: the saved card, or still waiting."""
        ...

    async def charge(self, customer: Customer, token: str, payment: Payment) -> ChargeResult:
        """Charges a saved card, keyed by the payment's id: the same payment never charges
        twice."""
        ...

    async def charge_new_card(
        self, customer: Customer, card: NewCard, payment: Payment
    ) -> tuple[ChargeResult, SavedCard | None]:
        """Charges a card given with the request; on success it is also kept for later."""
        ...

    async def outcome(
        self, customer: Customer, payment: Payment, token: str | None
    ) -> ChargeResult:
        """What became of a payment's charge: asked of the processor (a payment left PROCESSING
        by a crash, a webhook to check, the customer back from authenticating)."""
        ...

    async def saved_card_of(self, customer: Customer, gateway_id: str) -> SavedCard:
        """The card behind a payment method the processor keeps (for one paid with a new card
        that needed authentication)."""
        ...

    async def cancel(self, payment: Payment) -> None:
        """Gives up a charge waiting for authentication, so that it can never complete."""
        ...

    async def client_secret(self, payment: Payment) -> str | None:
        """For a payment waiting for authentication: what the browser needs. Never stored."""
        ...

    async def refund(self, payment: Payment, refund_id: str, amount: int) -> RefundResult:
        """Gives `amount` of a successful payment back, keyed by the refund's id (the same
        refund never pays out twice)."""
        ...


# The simulator's test cards (API.md)

DECLINES = {
    "4000000000000002": ("CARD_DECLINED", "The card was declined."),
    "4000000000009995": ("INSUFFICIENT_FUNDS", "The card has insufficient funds."),
    "4000000000000069": ("EXPIRED_CARD", "The card has expired."),
    "4000000000000127": ("INCORRECT_CVC", "The card's security code is incorrect."),
    "4000000000000119": ("PROCESSING_ERROR", "An error occurred while processing the card."),
}
# Saves fine; every charge to it is declined.
DECLINE_ON_CHARGE = "4000000000000341"


def _reference(payment: Payment) -> str:
    return "ch_test_" + hashlib.sha256(payment.id.encode()).hexdigest()[:24]


class TestGateway:
    """Test mode: no network, no state. A token records how its card behaves, so a charge's
    outcome depends only on the token and a repeat for the same payment gives the same result
    and reference."""

    provider = GatewayProvider.TEST
    publishable_key: str | None = None

    @staticmethod
    def _details(card: NewCard) -> CardDetails:
        assert card.details is not None  # checked before: the simulator takes raw cards only
        return card.details

    def _save(self, details: CardDetails) -> SavedCard:
        if details.number in DECLINES:
            code, message = DECLINES[details.number]
            raise CardError(message, code=code, field=["card"])
        behaviour = "decline" if details.number == DECLINE_ON_CHARGE else "ok"
        return SavedCard(
            token=f"tok_test_{behaviour}_{secrets.token_hex(12)}",
            brand=card_brand(details.number),
            last4=details.last4,
            exp_month=details.exp_month,
            exp_year=details.exp_year,
        )

    async def save_card(self, customer: Customer, card: NewCard) -> SetupResult:
        return SetupResult(self._save(self._details(card)))

    async def finish_setup(self, customer: Customer, setup_reference: str) -> SetupResult:
        raise CardError("No such card setup.", code="NOT_FOUND", field=["card"])

    async def charge(self, customer: Customer, token: str, payment: Payment) -> ChargeResult:
        reference = _reference(payment)
        if not token.startswith("tok_test_") or payment.amount <= 0:
            return ChargeResult.failed(
                "PROCESSING_ERROR", "The payment could not be processed.", reference
            )
        if token.startswith("tok_test_decline_"):
            return ChargeResult.failed("CARD_DECLINED", "The card was declined.", reference)
        return ChargeResult(ChargeStatus.SUCCEEDED, reference)

    async def charge_new_card(
        self, customer: Customer, card: NewCard, payment: Payment
    ) -> tuple[ChargeResult, SavedCard | None]:
        details = self._details(card)
        reference = _reference(payment)
        if details.number in DECLINES:
            code, message = DECLINES[details.number]
            return ChargeResult.failed(code, message, reference), None
        if details.number == DECLINE_ON_CHARGE:
            return ChargeResult.failed("CARD_DECLINED", "The card was declined.", reference), None
        saved = self._save(details)
        return await self.charge(customer, saved.token, payment), saved

    async def outcome(
        self, customer: Customer, payment: Payment, token: str | None
    ) -> ChargeResult:
        if token is None:
            # A card given inline is not kept until its charge succeeded: nothing to ask with.
            return ChargeResult.failed(
                "PROCESSING_ERROR", "The payment could not be confirmed with the processor."
            )
        # Stateless: the same token and payment give the same outcome as the first time.
        return await self.charge(customer, token, payment)

    async def saved_card_of(self, customer: Customer, gateway_id: str) -> SavedCard:
        raise CardError("The simulator keeps no cards.", code="NOT_FOUND", field=["card"])

    async def cancel(self, payment: Payment) -> None:
        return None

    async def client_secret(self, payment: Payment) -> str | None:
        return None

    async def refund(self, payment: Payment, refund_id: str, amount: int) -> RefundResult:
        if payment.gateway_reference is None or amount <= 0:
            return RefundResult(False, None, "The payment cannot be refunded.")
        return RefundResult(True, "re_test_" + hashlib.sha256(refund_id.encode()).hexdigest()[:24])
