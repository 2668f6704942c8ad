"""Stripe as the gateway, through the official `stripe` package's async client.

Cards never reach us: the customer's browser turns a card into a PaymentMethod (`pm_…`) with
Stripe.js and the business's publishable key, and we keep only that id with what may be shown
(brand, last 4, expiry). Saving a card is a SetupIntent for off-session use on the customer's
Stripe customer (made on first need, one per customer and mode); a charge is a PaymentIntent
keyed by our payment's id (Stripe's idempotency key, and in its metadata), on-session when the
customer is there and off-session for renewals. When the bank wants the customer to
authenticate (3-D Secure), the outcome is REQUIRES_ACTION with the client secret the browser
needs; the payment settles later, by Stripe's webhook or the customer's return.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict
from typing import Any

import stripe
from stripe.params import PaymentIntentCreateParams, SetupIntentCreateParams

from models import Customer, GatewayProvider, Payment
from services.payments.cards import CardError
from services.payments.gateway import (
    ChargeResult,
    ChargeStatus,
    NewCard,
    RefundResult,
    SavedCard,
    SetupResult,
)

logger = logging.getLogger("portal.stripe")
# Stripe's client logs whole response bodies at DEBUG, client secrets included: never below INFO
# (its INFO lines name the method, path and status only).
logging.getLogger("stripe").setLevel(logging.INFO)

DEFAULT_API_BASE = "https://api.stripe.com"

# Stripe's decline codes as ours (API.md's codes); anything else is CARD_DECLINED.
DECLINE_CODES = {
    "insufficient_funds": "INSUFFICIENT_FUNDS",
    "expired_card": "EXPIRED_CARD",
    "incorrect_cvc": "INCORRECT_CVC",
    "invalid_cvc": "INCORRECT_CVC",
    "processing_error": "PROCESSING_ERROR",
    "incorrect_number": "INVALID_CARD_NUMBER",
    "invalid_number": "INVALID_CARD_NUMBER",
    "authentication_required": "AUTHENTICATION_REQUIRED",
    "payment_intent_authentication_failure": "AUTHENTICATION_FAILED",
    "setup_intent_authentication_failure": "AUTHENTICATION_FAILED",
}
MESSAGES = {
    "INSUFFICIENT_FUNDS": "The card has insufficient funds.",
    "EXPIRED_CARD": "The card has expired.",
    "INCORRECT_CVC": "The card's security code is incorrect.",
    "PROCESSING_ERROR": "An error occurred while processing the card.",
    "INVALID_CARD_NUMBER": "The card number is not valid.",
    "AUTHENTICATION_FAILED": "The bank could not confirm it was you. Try again or use another "
    "card.",
    "CARD_DECLINED": "The card was declined.",
}


class GatewayUnavailable(Exception):
    """Stripe could not be reached or answered with an error of its own: nothing is known to
    have happened, and the same request may be tried again."""


def our_code(code: str | None, decline_code: str | None) -> str:
    for candidate in (decline_code, code):
        if candidate and candidate in DECLINE_CODES:
            return DECLINE_CODES[candidate]
    return "CARD_DECLINED"


def _declined(code: str) -> str:
    return MESSAGES.get(code, MESSAGES["CARD_DECLINED"])


# Stripe answers in well under a second; a call that takes longer than this is given up (and
# may be asked about again: every charge carries its idempotency key) before the request's own
# time limit (PORTAL_REQUEST_TIMEOUT_SECONDS, 15 s by default) runs out.
STRIPE_TIMEOUT_SECONDS = 10.0
_MAX_CLIENTS = 256

# One client (one pool of connections) per secret key and API address, per event loop: a pool's
# connections belong to the loop that opened them. The least recently used client is closed
# when there are too many.
_CLIENTS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop,
    OrderedDict[tuple[str, str], tuple[stripe.StripeClient, stripe.HTTPXClient]],
] = weakref.WeakKeyDictionary()


def client_for(secret_key: str, api_base: str) -> stripe.StripeClient:
    loop = asyncio.get_running_loop()
    clients = _CLIENTS.setdefault(loop, OrderedDict())
    key = (secret_key, api_base)
    found = clients.get(key)
    if found is not None:
        clients.move_to_end(key)
        return found[0]
    http = stripe.HTTPXClient(timeout=STRIPE_TIMEOUT_SECONDS)
    client = stripe.StripeClient(
        secret_key, base_addresses={"api": api_base}, http_client=http, max_network_retries=1
    )
    clients[key] = (client, http)
    while len(clients) > _MAX_CLIENTS:
        _, (_, oldest) = clients.popitem(last=False)
        closing = loop.create_task(_close(oldest))
        _CLOSING.add(closing)
        closing.add_done_callback(_CLOSING.discard)
    return client


_CLOSING: set[asyncio.Task[None]] = set()


async def _close(http: Any) -> None:  # stripe's close_async is untyped
    await http.close_async()


async def close_clients() -> None:
    """Closes this loop's Stripe connections (at the app's shutdown)."""
    clients = _CLIENTS.pop(asyncio.get_running_loop(), None) or OrderedDict()
    for _, http in clients.values():
        await _close(http)


class StripeGateway:
    provider = GatewayProvider.STRIPE

    def __init__(self, secret_key: str, publishable_key: str | None, api_base: str) -> None:
        self.client = client_for(secret_key, api_base)
        self.publishable_key = publishable_key

    # Customers

    async def stripe_customer(self, customer: Customer) -> str:
        """The customer's Stripe customer, made on first need (one per customer and mode)."""
        if customer.gateway_customer:
            return customer.gateway_customer
        made = await self._call(
            self.client.v1.customers.create_async(
                params={
                    "email": customer.email,
                    "name": customer.name or "",
                    "metadata": {"customer_id": customer.id},
                },
                options={"idempotency_key": f"customer-{customer.id}"},
            )
        )
        won = await Customer.filter(id=customer.id, gateway_customer__isnull=True).update(
            gateway_customer=made.id
        )
        if not won:  # a concurrent request made one first: use theirs
            await customer.refresh_from_db()
            assert customer.gateway_customer is not None
            return customer.gateway_customer
        customer.gateway_customer = made.id
        return str(made.id)

    # Cards

    async def _card_of(self, payment_method_id: str) -> SavedCard:
        method = await self._call(self.client.v1.payment_methods.retrieve_async(payment_method_id))
        card = method.card
        if card is None:
            raise CardError("Only cards are accepted.", code="CARD_DECLINED", field=["card"])
        return SavedCard(
            token=method.id,
            brand=str(card.brand or "unknown"),
            last4=str(card.last4),
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
        )

    async def _attach(self, customer_id: str, payment_method_id: str) -> None:
        """Attaches the card to the customer unless it is already (a completed SetupIntent
        attaches it on Stripe; it must be attached before a charge either way). A payment
        method Stripe does not know (or will not attach) is refused like a declined card: nothing
        can be charged with it."""
        try:
            method = await self._call(
                self.client.v1.payment_methods.retrieve_async(payment_method_id)
            )
            if method.customer is None:
                await self._call(
                    self.client.v1.payment_methods.attach_async(
                        payment_method_id, params={"customer": customer_id}
                    )
                )
        except GatewayUnavailable as unknown:
            if not isinstance(unknown.__cause__, stripe.InvalidRequestError):
                raise
            raise CardError(
                "This card cannot be used. Please enter it again.",
                code="PROCESSING_ERROR",
                field=["gatewayPaymentMethodId"],
            ) from None

    async def save_card(self, customer: Customer, card: NewCard) -> SetupResult:
        assert card.gateway_id is not None
        customer_id = await self.stripe_customer(customer)
        if await self._set_up_for(customer_id, card.gateway_id):
            # The customer's browser confirmed a SetupIntent of ours with this card already
            # (startCardSetup, the hosted pages' way): Stripe attached it to the customer. A
            # second setup would only ask the bank again.
            return SetupResult(await self._card_of(card.gateway_id))
        setup = await self._call(
            self.client.v1.setup_intents.create_async(
                # Cards only on our side (the card element); Stripe's default method types
                # include cards, so nothing else need be named.
                params=SetupIntentCreateParams(customer=customer_id, usage="off_session")
            )
        )
        confirmed = await self._call(
            self.client.v1.setup_intents.confirm_async(
                setup.id, params={"payment_method": card.gateway_id}
            )
        )
        return await self._setup_result(customer_id, confirmed, card.gateway_id)

    async def start_setup(self, customer: Customer) -> str:
        """A SetupIntent for off-session use, not yet confirmed: its client secret lets the
        customer's browser confirm it with the card typed into Stripe's own fields
        (`confirmCardSetup`), which makes the PaymentMethod and runs 3-D Secure when the bank
        asks. Stripe.js then has the PaymentMethod id for our mutations."""
        customer_id = await self.stripe_customer(customer)
        setup = await self._call(
            self.client.v1.setup_intents.create_async(
                params=SetupIntentCreateParams(customer=customer_id, usage="off_session")
            )
        )
        return str(setup.client_secret)

    async def _set_up_for(self, customer_id: str, payment_method_id: str) -> bool:
        """Whether the card is attached to the customer's Stripe customer already. Only our own
        SetupIntents and charges attach cards to it. An id Stripe does not know is answered
        by the usual path (the setup refuses it)."""
        try:
            method = await self._call(
                self.client.v1.payment_methods.retrieve_async(payment_method_id)
            )
        except GatewayUnavailable as unknown:
            if isinstance(unknown.__cause__, stripe.InvalidRequestError):
                return False
            raise
        attached = method.customer
        attached_id = attached if isinstance(attached, str) or attached is None else attached.id
        return attached_id == customer_id

    async def finish_setup(self, customer: Customer, setup_reference: str) -> SetupResult:
        customer_id = await self.stripe_customer(customer)
        setup = await self._call(self.client.v1.setup_intents.retrieve_async(setup_reference))
        if setup.customer != customer_id:
            raise CardError("No such card setup.", code="NOT_FOUND", field=["card"])
        method = setup.payment_method
        method_id = method if isinstance(method, str) or method is None else method.id
        return await self._setup_result(customer_id, setup, method_id)

    async def _setup_result(
        self, customer_id: str, setup: Any, payment_method_id: str | None
    ) -> SetupResult:
        if setup.status == "succeeded" and payment_method_id:
            await self._attach(customer_id, payment_method_id)
            return SetupResult(await self._card_of(payment_method_id), setup.id)
        if setup.status in ("requires_action", "requires_confirmation"):
            return SetupResult(None, setup.id, setup.client_secret)
        error = setup.last_setup_error
        code = our_code(getattr(error, "code", None), getattr(error, "decline_code", None))
        raise CardError(_declined(code), code=code, field=["card"])

    async def saved_card_of(self, customer: Customer, gateway_id: str) -> SavedCard:
        await self._attach(await self.stripe_customer(customer), gateway_id)
        return await self._card_of(gateway_id)

    # Charges

    async def charge(self, customer: Customer, token: str, payment: Payment) -> ChargeResult:
        customer_id = await self.stripe_customer(customer)
        params = PaymentIntentCreateParams(
            customer=customer_id,
            payment_method=token,
            amount=payment.amount,
            currency=payment.currency.lower(),
            confirm=True,
            off_session=payment.off_session,
            metadata={
                "payment_id": payment.id,
                "business_id": payment.business_id,
                "mode": str(payment.mode),
            },
        )
        try:
            intent = await self.client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": payment.id}
            )
        except stripe.CardError as error:
            return await self._declined_charge(error)
        except stripe.InvalidRequestError as error:
            # Stripe refused the request itself (e.g. a payment method that does not exist or
            # was detached): no charge was made, and asking again will not change that.
            logger.warning("Stripe refused charge %s: %s", payment.id, error.code)
            return ChargeResult.failed(
                "PROCESSING_ERROR", "The payment could not be processed with this card."
            )
        except stripe.StripeError as error:
            raise GatewayUnavailable(type(error).__name__) from error
        return self.result_of(intent)

    async def charge_new_card(
        self, customer: Customer, card: NewCard, payment: Payment
    ) -> tuple[ChargeResult, SavedCard | None]:
        assert card.gateway_id is not None
        customer_id = await self.stripe_customer(customer)
        try:
            await self._attach(customer_id, card.gateway_id)
        except CardError as refused:  # declined when attached: a failed payment, as API.md says
            return ChargeResult.failed(refused.code, refused.message), None
        result = await self.charge(customer, card.gateway_id, payment)
        if result.succeeded:
            return result, await self._card_of(card.gateway_id)
        return result, None

    async def _declined_charge(self, error: stripe.CardError) -> ChargeResult:
        details = error.error
        if details is None:
            return ChargeResult.failed("CARD_DECLINED", _declined("CARD_DECLINED"))
        code = our_code(getattr(details, "code", None), getattr(details, "decline_code", None))
        reference = getattr(details, "payment_intent", None)
        if reference is not None and not isinstance(reference, str):
            reference = reference.id
        charge_id = getattr(details, "charge", None)
        if reference is None and isinstance(charge_id, str):
            # Some Stripe-compatible servers leave the PaymentIntent out of the error.
            charge = await self._call(self.client.v1.charges.retrieve_async(charge_id))
            intent = charge.payment_intent
            reference = intent if isinstance(intent, str) or intent is None else intent.id
        if code == "AUTHENTICATION_REQUIRED" and reference is not None:
            # Off-session, the bank wants the customer: they come back and authenticate.
            intent = await self._call(self.client.v1.payment_intents.retrieve_async(reference))
            return ChargeResult(
                ChargeStatus.REQUIRES_ACTION, intent.id, client_secret=intent.client_secret
            )
        return ChargeResult.failed(code, _declined(code), reference)

    def result_of(self, intent: Any) -> ChargeResult:
        status = intent.status
        if status == "succeeded":
            return ChargeResult(ChargeStatus.SUCCEEDED, intent.id)
        if status in ("requires_action", "requires_confirmation"):
            return ChargeResult(
                ChargeStatus.REQUIRES_ACTION, intent.id, client_secret=intent.client_secret
            )
        if status == "processing":
            return ChargeResult(ChargeStatus.PROCESSING, intent.id)
        if status == "canceled":
            return ChargeResult.failed("CANCELLED", "The payment was cancelled.", intent.id)
        error = intent.last_payment_error
        if error is None:  # requires_payment_method without an error: never confirmed
            return ChargeResult(ChargeStatus.PROCESSING, intent.id)
        code = our_code(getattr(error, "code", None), getattr(error, "decline_code", None))
        return ChargeResult.failed(code, _declined(code), intent.id)

    async def outcome(
        self, customer: Customer, payment: Payment, token: str | None
    ) -> ChargeResult:
        if payment.gateway_reference:
            intent = await self._call(
                self.client.v1.payment_intents.retrieve_async(payment.gateway_reference)
            )
            return self.result_of(intent)
        # Never recorded: asking again with the payment's id as the idempotency key (and the
        # same request) gives the charge Stripe made for it, or makes it if it never got there:
        # what the customer asked for, made once.
        if token is not None:
            return await self.charge(customer, token, payment)
        if payment.gateway_payment_method:
            new = NewCard(gateway_id=payment.gateway_payment_method)
            result, _ = await self.charge_new_card(customer, new, payment)
            return result
        return ChargeResult.failed(
            "PROCESSING_ERROR", "The payment could not be confirmed with the processor."
        )

    async def cancel(self, payment: Payment) -> None:
        if payment.gateway_reference:
            await self._call(self.client.v1.payment_intents.cancel_async(payment.gateway_reference))

    async def client_secret(self, payment: Payment) -> str | None:
        if not payment.gateway_reference:
            return None
        intent = await self._call(
            self.client.v1.payment_intents.retrieve_async(payment.gateway_reference)
        )
        return str(intent.client_secret) if intent.client_secret else None

    async def refund(self, payment: Payment, refund_id: str, amount: int) -> RefundResult:
        if payment.gateway_reference is None:
            return RefundResult(False, None, "The payment was never charged through Stripe.")
        try:
            made = await self.client.v1.refunds.create_async(
                params={
                    "payment_intent": payment.gateway_reference,
                    "amount": amount,
                    "metadata": {"refund_id": refund_id, "payment_id": payment.id},
                },
                options={"idempotency_key": refund_id},
            )
        except stripe.InvalidRequestError as refused:
            # e.g. more than is left of the charge, or a disputed charge: nothing was refunded.
            return RefundResult(False, None, refused.user_message or "Stripe refused the refund.")
        except stripe.StripeError as error:
            raise GatewayUnavailable(type(error).__name__) from error
        if made.status in ("failed", "canceled"):
            return RefundResult(False, made.id, "The refund failed.")
        return RefundResult(True, made.id)

    async def verify(self) -> None:
        """A cheap call that Stripe answers only for a valid secret key."""
        await self._call(self.client.v1.customers.list_async(params={"limit": 1}))

    @staticmethod
    async def _call(awaitable: Any) -> Any:
        try:
            return await awaitable
        except stripe.CardError as error:
            details = error.error
            code = our_code(getattr(details, "code", None), getattr(details, "decline_code", None))
            raise CardError(_declined(code), code=code, field=["card"]) from error
        except stripe.StripeError as error:
            logger.warning("Stripe answered %s", type(error).__name__)
            raise GatewayUnavailable(type(error).__name__) from error
