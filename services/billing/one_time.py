"""One-time purchases: an invoice and a payment for a product sold once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import Invoice, InvoiceStatus, Payment, PaymentStatus
from services.billing.charging import (
    BillingResult,
    card_request,
    charge_source,
    decline_error,
    resolve_source,
    with_idempotency,
)
from services.billing.invoices import create_invoice
from services.billing.notifications import send_receipt
from services.billing.payment_methods import store_saved_card
from services.billing.products import get_product
from services.clock import now
from services.customers import get_customer
from services.errors import ServiceError
from services.events import payment_event
from services.ids import new_id
from services.licensing import issue_license_key
from services.outbox import notify_worker
from services.pagination import Page, paginate
from services.payments.cards import CardDetails
from services.scope import Scope

if TYPE_CHECKING:
    from app.settings import Settings


async def create_payment(
    settings: Settings,
    scope: Scope,
    caller: str,
    *,
    customer_id: str,
    product_id: str,
    payment_method_id: str | None,
    card: CardDetails | None,
    idempotency_key: str | None,
) -> BillingResult:
    request = {
        "customer_id": customer_id,
        "product_id": product_id,
        "payment_method_id": payment_method_id,
        "card": card_request(card),
    }

    async def work() -> BillingResult:
        customer = await get_customer(scope, customer_id)
        product = await get_product(scope, product_id)
        if product.is_recurring:
            raise ServiceError(
                "This product is a subscription; use createSubscription.",
                code="INVALID_PRODUCT",
                field=["productId"],
            )
        source = await resolve_source(scope, customer.id, payment_method_id, card)
        payment_id = new_id("pay")
        async with in_transaction():
            invoice = await create_invoice(
                business_id=scope.business_id,
                mode=scope.mode,
                customer_id=customer.id,
                subscription_id=None,
                description=product.name,
                amount=product.price_amount,
                currency=product.currency,
            )
            payment = await Payment.create(
                id=payment_id,
                business_id=scope.business_id,
                mode=scope.mode,
                customer_id=customer.id,
                invoice=invoice,
                payment_method=source.method,
                status=PaymentStatus.PROCESSING,
                amount=product.price_amount,
                currency=product.currency,
                card_brand=source.brand,
                card_last4=source.last4,
            )
        result, saved = await charge_source(scope.mode, payment, source)
        at = now()
        async with in_transaction():
            if result.succeeded:
                method = source.method or (
                    await store_saved_card(scope, customer.id, saved) if saved else None
                )
                await Payment.filter(id=payment.id).update(
                    status=PaymentStatus.SUCCEEDED,
                    gateway_reference=result.reference,
                    payment_method_id=method.id if method else None,
                    updated_at=at,
                )
                await Invoice.filter(id=invoice.id).update(
                    status=InvoiceStatus.PAID, amount_due=0, paid_at=at
                )
                await payment.refresh_from_db()
                await invoice.refresh_from_db()
                await send_receipt(settings, payment, invoice, product.name)
                await issue_license_key(product, customer_id=customer.id, payment_id=payment.id)
                await payment_event(payment)
                error = None
            else:
                await Payment.filter(id=payment.id).update(
                    status=PaymentStatus.FAILED,
                    failure_code=result.failure_code,
                    failure_message=result.failure_message,
                    gateway_reference=result.reference,
                    updated_at=at,
                )
                await Invoice.filter(id=invoice.id).update(status=InvoiceStatus.VOID, amount_due=0)
                await payment.refresh_from_db()
                await invoice.refresh_from_db()
                await payment_event(payment)
                error = decline_error(result)
        notify_worker()
        return BillingResult(payment=payment, invoice=invoice, error=error)

    return await with_idempotency(
        settings, scope, caller, idempotency_key, "createPayment", request, work
    )


async def list_payments(
    scope: Scope, customer_id: str, first: int | None, after: str | None
) -> Page[Payment]:
    query = Payment.filter(business_id=scope.business_id, mode=scope.mode, customer_id=customer_id)
    return await paginate(query, first, after)
