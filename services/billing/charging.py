"""What every charge shares: where the money comes from, the gateway call between two
transactions, and the result handed back to resolvers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models import Invoice, Mode, Payment, PaymentMethod, PaymentStatus, Subscription
from models.clock import now
from services.billing.payment_methods import get_payment_method, store_saved_card
from services.errors import ServiceError
from services.payments import idempotency
from services.payments.cards import CardDetails, CardError, card_brand
from services.payments.gateway import ChargeResult, SavedCard, gateway_for, require_configured
from services.scope import Scope

if TYPE_CHECKING:
    from services.settings import Settings


logger = logging.getLogger("portal.billing")


@dataclass(frozen=True)
class PaymentSource:
    method: PaymentMethod | None = None
    card: CardDetails | None = None

    @property
    def brand(self) -> str | None:
        if self.method is not None:
            return self.method.brand
        return card_brand(self.card.number) if self.card else None

    @property
    def last4(self) -> str | None:
        if self.method is not None:
            return self.method.last4
        return self.card.last4 if self.card else None


async def resolve_source(
    scope: Scope, customer_id: str, payment_method_id: str | None, card: CardDetails | None
) -> PaymentSource:
    require_configured(scope.mode)
    if (payment_method_id is None) == (card is None):
        raise ServiceError(
            "Give either paymentMethodId or card.", code="INVALID_INPUT", field=["paymentMethodId"]
        )
    if card is not None:
        return PaymentSource(card=card)
    assert payment_method_id is not None
    return PaymentSource(method=await get_payment_method(scope, customer_id, payment_method_id))


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
    )


async def charge_source(
    mode: Mode, payment: Payment, source: PaymentSource
) -> tuple[ChargeResult, SavedCard | None]:
    """Step two of three: the gateway call, outside any transaction, keyed by the payment id.
    A processor that fails outright counts as a failed charge, so step three always runs and
    nothing is left claimed or PROCESSING."""
    gateway = gateway_for(mode)
    try:
        if source.card is not None:
            return await gateway.charge_card(
                source.card, payment.amount, payment.currency, payment.id
            )
        assert source.method is not None
        result = await gateway.charge(
            source.method.gateway_token, payment.amount, payment.currency, payment.id
        )
    except Exception as exc:
        logger.warning("charge %s failed at the gateway: %s", payment.id, type(exc).__name__)
        return ChargeResult(
            False, None, "PROCESSING_ERROR", "The payment could not be processed."
        ), None
    return result, None


async def record_payment_outcome(
    payment: Payment, result: ChargeResult, method: PaymentMethod | None
) -> bool:
    """Moves a PROCESSING payment to SUCCEEDED or FAILED, once: False if something else (a
    concurrent settlement) already recorded it. Call inside step three's transaction."""
    fields: dict[str, Any] = {
        "gateway_reference": result.reference,
        "updated_at": now(),
    }
    if result.succeeded:
        fields.update(status=PaymentStatus.SUCCEEDED)
        if method is not None:
            fields["payment_method_id"] = method.id
    else:
        fields.update(
            status=PaymentStatus.FAILED,
            failure_code=result.failure_code,
            failure_message=result.failure_message,
        )
    changed = await Payment.filter(id=payment.id, status=PaymentStatus.PROCESSING).update(**fields)
    if changed:
        await payment.refresh_from_db()
    return changed == 1


async def attach_saved_card(
    scope: Scope, customer_id: str, payment: Payment, saved: SavedCard
) -> PaymentMethod:
    """After a successful inline-card charge: the card is kept, and the payment points at it."""
    method = await store_saved_card(scope, customer_id, saved)
    await Payment.filter(id=payment.id).update(payment_method_id=method.id)
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


def card_request(card: CardDetails | None) -> dict[str, Any] | None:
    """The card as part of an idempotency fingerprint (HMACed, never stored as is)."""
    if card is None:
        return None
    return {"number": card.number, "exp": [card.exp_month, card.exp_year], "cvc": card.cvc}
