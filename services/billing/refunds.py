"""Refunds and the credit notes that document them.

A refund gives back all or part of a successful payment through the gateway that took it.
Its amount is first reserved on the payment with a conditional update (refunded + amount may
not exceed the amount), so refunds asked for at the same time never add up to more than was
paid. The gateway is called outside any transaction, keyed by the refund's id. On success a
credit note is issued: an invoice of kind CREDIT_NOTE with a gapless number series of its own,
referring to the original invoice, carrying the amount back split over the original's VAT rates:

- the whole invoice refunded at once: the credit note repeats its lines and amounts exactly;
- otherwise the refund is split over the original's VAT groups in proportion to their gross
  (largest remainder, services/tax/amounts.py), and each part's VAT is taken out of it as out of
  a gross price (round half up per group), so the credit note's total is exactly the refund.

A refund the gateway refuses releases its reservation; one the gateway does not answer stays
PENDING, reserved, and is asked again (same key) by `settle_pending_refunds`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import (
    CreditNoteCounter,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Mode,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from models.clock import now
from models.ids import new_id, well_formed
from services.billing.notifications import send_credit_note
from services.errors import NotFound, ServiceError
from services.events import refund_event
from services.outbox import notify_worker
from services.payments import idempotency
from services.payments.gateway import PaymentGateway, RefundResult
from services.payments.gateway_config import gateway_for
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope
from services.tax import split_largest_remainder
from services.tax.amounts import tax_of_gross

if TYPE_CHECKING:
    from services.settings import Settings

logger = logging.getLogger("portal.billing")
PENDING_RETRY_AFTER = timedelta(minutes=1)


@dataclass
class RefundOutcome:
    refund: Refund
    payment: Payment
    credit_note: Invoice | None
    error: ServiceError | None = None


async def next_credit_note_number(business_id: str, mode: Mode) -> str:
    """Inside the transaction that issues the credit note: gapless, like invoice numbers."""
    bumped = await CreditNoteCounter.filter(business_id=business_id, mode=mode).update(
        last_number=F("last_number") + 1
    )
    if bumped == 0:
        await CreditNoteCounter.get_or_create(business_id=business_id, mode=mode)
        await CreditNoteCounter.filter(business_id=business_id, mode=mode).update(
            last_number=F("last_number") + 1
        )
    counter = await CreditNoteCounter.get(business_id=business_id, mode=mode)
    prefix = "TEST-" if mode == Mode.TEST else ""
    return f"{prefix}CN-{counter.last_number:06d}"


def _refused(message: str, code: str, field: str = "amount") -> ServiceError:
    return ServiceError(message, code=code, field=[field])


async def refund_payment(
    settings: Settings,
    scope: Scope,
    caller: str,
    *,
    payment_id: str,
    amount: int | None,
    reason: str | None,
    idempotency_key: str | None,
) -> RefundOutcome:
    payment = (
        await Payment.get_or_none(id=payment_id, **scope.filters())
        if well_formed(payment_id, "pay")
        else None
    )
    if payment is None:
        raise NotFound("payment", field=["paymentId"])
    if payment.status != PaymentStatus.SUCCEEDED:
        raise _refused("Only a successful payment can be refunded.", "INVALID_STATE", "paymentId")
    left = payment.amount - payment.refunded_amount
    wanted = left if amount is None else amount
    if isinstance(wanted, bool) or wanted <= 0:
        raise _refused("The amount must be positive.", "INVALID_INPUT")
    if reason is not None and len(reason) > 300:
        raise _refused("At most 300 characters.", "INVALID_INPUT", "reason")
    request = {"payment_id": payment.id, "amount": amount, "reason": reason}
    claim = await idempotency.claim(
        settings.secret_key, scope, caller, idempotency_key, "refundPayment", request
    )
    if claim.replay is not None:
        return await _replay(scope, claim.replay)
    try:
        outcome = await _refund(settings, scope, payment, wanted, reason)
    except ServiceError as error:
        await idempotency.finish(claim, {"refund_id": None, "error": _error_record(error)})
        raise
    except BaseException:
        await idempotency.release(claim)
        raise
    await idempotency.finish(
        claim, {"refund_id": outcome.refund.id, "error": _error_record(outcome.error)}
    )
    return outcome


def _error_record(error: ServiceError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"code": error.code, "message": error.message, "field": error.field}


async def _replay(scope: Scope, record: dict[str, Any]) -> RefundOutcome:
    error = record.get("error")
    failure = (
        ServiceError(error["message"], code=error["code"], field=error["field"]) if error else None
    )
    if record.get("refund_id") is None:
        assert failure is not None
        raise failure
    refund = await Refund.get(id=record["refund_id"], **scope.filters())
    payment = await Payment.get(id=refund.payment_id)
    note = await Invoice.get_or_none(id=refund.credit_note_id) if refund.credit_note_id else None
    return RefundOutcome(refund, payment, note, failure)


async def _refund(
    settings: Settings, scope: Scope, payment: Payment, amount: int, reason: str | None
) -> RefundOutcome:
    gateway = await gateway_for(settings, scope)
    refund_id = new_id("ref")
    async with in_transaction():
        reserved = await Payment.filter(
            id=payment.id,
            status=PaymentStatus.SUCCEEDED,
            refunded_amount__lte=payment.amount - amount,
        ).update(refunded_amount=F("refunded_amount") + amount, updated_at=now())
        if reserved != 1:
            await payment.refresh_from_db()
            left = payment.amount - payment.refunded_amount
            raise _refused(
                f"At most {left} (minor units) of this payment is left to refund.",
                "REFUND_EXCEEDS_PAYMENT",
            )
        refund = await Refund.create(
            id=refund_id,
            business_id=scope.business_id,
            mode=scope.mode,
            payment_id=payment.id,
            customer_id=payment.customer_id,
            amount=amount,
            currency=payment.currency,
            status=RefundStatus.PENDING,
            reason=reason,
        )
    return await _send(settings, gateway, payment, refund)


async def _send(
    settings: Settings, gateway: PaymentGateway, payment: Payment, refund: Refund
) -> RefundOutcome:
    try:
        result = await gateway.refund(payment, refund.id, refund.amount)
    except GatewayUnavailable:
        await payment.refresh_from_db()
        return RefundOutcome(
            refund,
            payment,
            None,
            ServiceError(
                "The payment processor could not be reached. The refund is PENDING and is "
                "sent again until the processor answers.",
                code="GATEWAY_UNAVAILABLE",
            ),
        )
    outcome = await _finish(settings, payment, refund, result)
    notify_worker()
    return outcome


async def _finish(
    settings: Settings, payment: Payment, refund: Refund, result: RefundResult
) -> RefundOutcome:
    note = None
    error = None
    async with in_transaction():
        status = RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED
        settled = await Refund.filter(id=refund.id, status=RefundStatus.PENDING).update(
            status=status,
            gateway_reference=result.reference,
            failure_message=None if result.succeeded else result.failure_message,
        )
        if settled == 1:
            if result.succeeded:
                note = await _issue_credit_note(payment, refund)
                await Refund.filter(id=refund.id).update(credit_note_id=note.id)
            else:
                await Payment.filter(id=payment.id).update(
                    refunded_amount=F("refunded_amount") - refund.amount
                )
            await refund.refresh_from_db()
            await refund_event(refund, note)
        else:
            await refund.refresh_from_db()
    if note is not None:
        await send_credit_note(settings, refund, note)
    if not result.succeeded:
        error = ServiceError(
            result.failure_message or "The refund failed.", code="REFUND_FAILED", field=["amount"]
        )
    await payment.refresh_from_db()
    if note is None and refund.credit_note_id:
        note = await Invoice.get(id=refund.credit_note_id)
    return RefundOutcome(refund, payment, note, error)


async def settle_pending_refunds(
    settings: Settings, older_than: timedelta = PENDING_RETRY_AFTER
) -> int:
    """Sends again (same key) every refund the gateway did not answer; returns how many it
    settled."""
    settled = 0
    for refund in await Refund.filter(
        status=RefundStatus.PENDING, created_at__lt=now() - older_than
    ).order_by("created_at"):
        payment = await Payment.get(id=refund.payment_id)
        try:
            gateway = await gateway_for(settings, Scope(refund.business_id, refund.mode))
            outcome = await _send(settings, gateway, payment, refund)
        except Exception:  # one bad row must not stop the others
            logger.exception("refund %s could not be settled; tried again later", refund.id)
            continue
        if outcome.refund.status != RefundStatus.PENDING:
            settled += 1
    return settled


# The credit note


async def _issue_credit_note(payment: Payment, refund: Refund) -> Invoice:
    original = await Invoice.get(id=payment.invoice_id) if payment.invoice_id else None
    if original is None:
        raise ServiceError("The payment has no invoice to correct.", code="INVALID_STATE")
    lines = list(await InvoiceLine.filter(invoice_id=original.id).order_by("id"))
    earlier = await Refund.filter(
        payment_id=payment.id, status=RefundStatus.SUCCEEDED, id__not=refund.id
    ).exists()
    whole = refund.amount == original.total_amount and not earlier
    note = await Invoice.create(
        business_id=original.business_id,
        mode=original.mode,
        customer_id=original.customer_id,
        subscription_id=original.subscription_id,
        number=await next_credit_note_number(original.business_id, original.mode),
        status=InvoiceStatus.PAID,  # the money is on its way back
        currency=original.currency,
        total_amount=refund.amount,
        amount_due=0,
        period_start=original.period_start,
        period_end=original.period_end,
        paid_at=now(),
        kind=InvoiceKind.CREDIT_NOTE,
        credit_note_for_id=original.id,
        prices_include_tax=True,
        seller=original.seller,
        buyer=original.buyer,
        notes=original.notes,
    )
    if whole:
        await _mirror(note, original, lines)
    else:
        await _proportional(note, original, lines, refund.amount)
    await note.refresh_from_db()
    return note


async def _mirror(note: Invoice, original: Invoice, lines: list[InvoiceLine]) -> None:
    await Invoice.filter(id=note.id).update(
        net_amount=original.net_amount,
        tax_amount=original.tax_amount,
        prices_include_tax=original.prices_include_tax,
        tax_breakdown=original.tax_breakdown,
    )
    for line in lines:
        await InvoiceLine.create(
            invoice_id=note.id,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount=line.amount,
            period_start=line.period_start,
            period_end=line.period_end,
            net_amount=line.net_amount,
            tax_category=line.tax_category,
            tax_rate=line.tax_rate,
        )


async def _proportional(
    note: Invoice, original: Invoice, lines: list[InvoiceLine], amount: int
) -> None:
    description = f"Refund: invoice {original.number}"
    groups = original.tax_breakdown or []
    if not groups:  # issued without tax settings: one line, no VAT
        await InvoiceLine.create(
            invoice_id=note.id,
            description=description,
            quantity=1,
            unit_amount=amount,
            amount=amount,
        )
        return
    gross = [int(g["taxable_amount"]) + int(g["tax_amount"]) for g in groups]
    parts = split_largest_remainder(amount, gross)
    breakdown = []
    net_total = tax_total = 0
    for group, part in zip(groups, parts, strict=True):
        rate = Decimal(group["rate"])
        tax = tax_of_gross(part, rate)
        breakdown.append({**group, "taxable_amount": part - tax, "tax_amount": tax})
        net_total += part - tax
        tax_total += tax
        rate_text = format(rate.normalize(), "f")
        await InvoiceLine.create(
            invoice_id=note.id,
            description=f"{description} ({group['category']} {rate_text} %)",
            quantity=1,
            unit_amount=part,
            amount=part,
            period_start=original.period_start,
            period_end=original.period_end,
            net_amount=part - tax,
            tax_category=group["category"],
            tax_rate=group["rate"],
        )
    await Invoice.filter(id=note.id).update(
        net_amount=net_total, tax_amount=tax_total, tax_breakdown=breakdown
    )
