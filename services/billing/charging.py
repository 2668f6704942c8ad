"""What every charge shares: where the money comes from, the gateway call between two
transactions, the outcomes (succeeded, failed, waiting for the customer to authenticate,
processing), and the result handed back to resolvers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models import Customer, Invoice, Payment, PaymentMethod, PaymentStatus, Subscription
from models.clock import now
from services import payment_updates
from services.billing.payment_methods import get_payment_method, store_saved_card
from services.errors import ServiceError
from services.payments import idempotency
from services.payments.cards import CardDetails, CardError, RawCard, card_brand
from services.payments.gateway import (
    ChargeResult,
    ChargeStatus,
    NewCard,
    PaymentGateway,
    SavedCard,
)
from services.payments.gateway_config import gateway_for, new_card
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings


logger = logging.getLogger("portal.billing")

# A payment that has not reached a final state yet.
OPEN_STATUSES = (PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION)


@dataclass(frozen=True)
class PaymentSource:
    """Where a payment's money comes from: a saved card, or a new one given with the request."""

    method: PaymentMethod | None = None
    card: NewCard | None = None

    @property
    def details(self) -> CardDetails | None:
        return self.card.details if self.card else None

    @property
    def brand(self) -> str | None:
        if self.method is not None:
            return self.method.brand
        return card_brand(self.details.number) if self.details else None

    @property
    def last4(self) -> str | None:
        if self.method is not None:
            return self.method.last4
        return self.details.last4 if self.details else None


@dataclass(frozen=True)
class CardInput:
    """What a request said about the card to use: a saved one, a raw card (the simulator),
    or the processor's payment method (Stripe)."""

    payment_method_id: str | None = None
    card: RawCard | None = None
    gateway_payment_method_id: str | None = None

    @property
    def given(self) -> int:
        return sum(
            value is not None
            for value in (self.payment_method_id, self.card, self.gateway_payment_method_id)
        )

    def fingerprint(self) -> dict[str, Any]:
        """The card as part of an idempotency fingerprint (HMACed, never stored as is)."""
        card = self.card
        return {
            "payment_method_id": self.payment_method_id,
            "gateway_payment_method_id": self.gateway_payment_method_id,
            "card": None
            if card is None
            else {"number": card.number, "exp": [card.exp_month, card.exp_year], "cvc": card.cvc},
        }


async def payment_gateway(settings: Settings, scope: Scope, card: CardInput) -> PaymentGateway:
    """The business's gateway, with the card input checked against it before anything else
    happens (a Stripe business refuses card numbers; live mode without a gateway refuses)."""
    gateway = await gateway_for(settings, scope)
    if card.card is not None or card.gateway_payment_method_id is not None:
        new_card(gateway, card.card, card.gateway_payment_method_id)
    return gateway


async def resolve_source(
    gateway: PaymentGateway, scope: Scope, customer_id: str, card: CardInput
) -> PaymentSource:
    if card.given != 1:
        raise ServiceError(
            "Give one of paymentMethodId, card or gatewayPaymentMethodId.",
            code="INVALID_INPUT",
            field=["paymentMethodId"],
        )
    if card.payment_method_id is not None:
        method = await get_payment_method(scope, customer_id, card.payment_method_id)
        return PaymentSource(method=method)
    return PaymentSource(card=new_card(gateway, card.card, card.gateway_payment_method_id))


async def open_payment(
    payment_id: str,
    scope: Scope,
    customer_id: str,
    source: PaymentSource,
    *,
    amount: int,
    currency: str,
    product_id: str,
    invoice: Invoice | None,
    subscription: Subscription | None = None,
    off_session: bool = False,
) -> Payment:
    """Step one's payment: PROCESSING, with what may be shown of the card. Call inside step
    one's transaction; the gateway is then called with this payment's id."""
    return await Payment.create(
        id=payment_id,
        business_id=scope.business_id,
        mode=scope.mode,
        customer_id=customer_id,
        subscription=subscription,
        invoice=invoice,
        payment_method=source.method,
        status=PaymentStatus.PROCESSING,
        product_id=product_id,
        amount=amount,
        currency=currency,
        card_brand=source.brand,
        card_last4=source.last4,
        gateway_payment_method=source.card.gateway_id if source.card else None,
        off_session=off_session,
    )


async def charge_source(
    gateway: PaymentGateway, payment: Payment, source: PaymentSource
) -> tuple[ChargeResult, SavedCard | None]:
    """Step two of three: the gateway call, outside any transaction, keyed by the payment id.
    A simulator that fails outright counts as a failed charge; a processor that cannot be
    reached raises GatewayUnavailable, and the payment stays PROCESSING for settlement to ask
    about (the processor may have charged)."""
    customer = await Customer.get(id=payment.customer_id)
    try:
        if source.card is not None:
            result, saved = await gateway.charge_new_card(customer, source.card, payment)
        else:
            assert source.method is not None
            result = await gateway.charge(customer, source.method.gateway_token, payment)
            saved = None
    except GatewayUnavailable:
        raise
    except CardError as refused:
        return ChargeResult.failed(refused.code, refused.message), None
    except Exception as exc:
        logger.warning("charge %s failed at the gateway: %s", payment.id, type(exc).__name__)
        return ChargeResult.failed("PROCESSING_ERROR", "The payment could not be processed."), None
    await note_reference(payment, result)
    return result, saved


async def note_reference(payment: Payment, result: ChargeResult) -> None:
    """The processor's charge, kept as soon as it is known: settlement asks about it."""
    if result.reference and payment.gateway_reference != result.reference:
        await Payment.filter(id=payment.id).update(gateway_reference=result.reference)
        payment.gateway_reference = result.reference


def unavailable_error() -> ServiceError:
    return ServiceError(
        "The payment processor could not be reached, so the outcome is not known yet: the "
        "payment stays PROCESSING and is settled as soon as the processor answers "
        "(confirmPayment asks at once). Repeat the request with the same idempotency key, not "
        "a new one, to see it.",
        code="GATEWAY_UNAVAILABLE",
    )


async def record_payment_outcome(
    payment: Payment, result: ChargeResult, method: PaymentMethod | None
) -> bool:
    """Moves an open payment (PROCESSING, or waiting for authentication) to the result's
    status, once: False if something else (a concurrent settlement, the processor's webhook)
    already recorded this outcome or a final one. Call inside step three's transaction, a
    `payment_updates.transaction()`: the one place a payment's status changes, and so the one
    place that announces it (paymentUpdated)."""
    fields: dict[str, Any] = {"updated_at": now()}
    if result.reference:
        fields["gateway_reference"] = result.reference
    if result.status == ChargeStatus.SUCCEEDED:
        fields["status"] = PaymentStatus.SUCCEEDED
        if method is not None:
            fields["payment_method_id"] = method.id
    elif result.status == ChargeStatus.FAILED:
        fields.update(
            status=PaymentStatus.FAILED,
            failure_code=result.failure_code,
            failure_message=result.failure_message,
        )
    elif result.status == ChargeStatus.REQUIRES_ACTION:
        fields["status"] = PaymentStatus.REQUIRES_ACTION
    else:
        fields["status"] = PaymentStatus.PROCESSING
    from_statuses = [s for s in OPEN_STATUSES if s != fields["status"]]
    changed = await Payment.filter(id=payment.id, status__in=from_statuses).update(**fields)
    if changed:
        await payment.refresh_from_db()
        # Watchers of paymentUpdated hear of it once the surrounding transaction commits.
        await payment_updates.changed(payment.id)
    return changed == 1


async def attach_saved_card(
    scope: Scope, customer_id: str, payment: Payment, saved: SavedCard
) -> PaymentMethod:
    """After a successful charge with a new card: the card is kept, and the payment points at
    it."""
    method = await store_saved_card(scope, customer_id, saved)
    await Payment.filter(id=payment.id).update(
        payment_method_id=method.id,
        card_brand=saved.brand,
        card_last4=saved.last4,
        gateway_payment_method=None,
    )
    payment.payment_method_id = method.id
    return method


def decline_error(result: ChargeResult) -> CardError:
    return CardError(
        result.failure_message or "The payment failed.",
        code=result.failure_code or "CARD_DECLINED",
        field=["card"],
    )


@dataclass
class BillingResult:
    subscription: Subscription | None = None
    payment: Payment | None = None
    invoice: Invoice | None = None
    error: ServiceError | None = None
    # When the payment waits for the customer to authenticate: for their browser. Not stored.
    client_secret: str | None = field(default=None, repr=False)

    def to_record(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription.id if self.subscription else None,
            "payment_id": self.payment.id if self.payment else None,
            "invoice_id": self.invoice.id if self.invoice else None,
            "error": _error_record(self.error),
        }


def _error_record(error: ServiceError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"code": error.code, "message": error.message, "field": error.field}


async def _from_record(scope: Scope, record: dict[str, Any]) -> BillingResult:
    where: dict[str, Any] = {"business_id": scope.business_id, "mode": scope.mode}
    error = record.get("error")
    result = BillingResult(
        subscription=await Subscription.get_or_none(id=record["subscription_id"], **where)
        if record.get("subscription_id")
        else None,
        payment=await Payment.get_or_none(id=record["payment_id"], **where)
        if record.get("payment_id")
        else None,
        invoice=await Invoice.get_or_none(id=record["invoice_id"], **where)
        if record.get("invoice_id")
        else None,
        error=ServiceError(error["message"], code=error["code"], field=error["field"])
        if error
        else None,
    )
    return result


async def with_idempotency(
    settings: Settings,
    scope: Scope,
    caller: str,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    work: Callable[[], Awaitable[BillingResult]],
) -> BillingResult:
    """Runs `work` once per key; a repeat with the same input replays the first result."""
    claim = await idempotency.claim(settings.secret_key, scope, caller, key, operation, request)
    if claim.replay is not None:
        replayed = await _from_record(scope, claim.replay)
        if replayed.error is not None and replayed.payment is None:
            raise replayed.error
        return replayed
    try:
        result = await work()
    except ServiceError as error:
        if error.retryable:
            await idempotency.release(claim)
        else:
            await idempotency.finish(claim, BillingResult(error=error).to_record())
        raise
    except BaseException:
        await idempotency.release(claim)
        raise
    await idempotency.finish(claim, result.to_record())
    return result
