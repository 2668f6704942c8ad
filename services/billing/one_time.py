"""One-time purchases: an invoice and a payment for a product sold once."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import Invoice, InvoiceStatus, Payment, PaymentMethod, Product
from models.clock import now
from models.ids import new_id
from services import payment_updates
from services.billing.charging import (
    BillingResult,
    CardInput,
    attach_saved_card,
    charge_source,
    decline_error,
    open_payment,
    payment_gateway,
    record_payment_outcome,
    resolve_source,
    unavailable_error,
    with_idempotency,
)
from services.billing.invoices import InvoiceItem, create_invoice
from services.billing.notifications import send_receipt
from services.billing.products import get_product
from services.billing.related_rows import PAYMENTS, JoinedPageQuery, Reader
from services.customers import get_customer
from services.errors import ServiceError
from services.events import payment_event
from services.licensing import issue_license_key
from services.outbox import notify_worker
from services.pagination import Page, keyset_page
from services.payments.gateway import ChargeResult, SavedCard
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope
from services.sql import Row

if TYPE_CHECKING:
    from services.settings import Settings


async def create_payment(
    settings: Settings,
    scope: Scope,
    caller: str,
    *,
    customer_id: str,
    product_id: str,
    card: CardInput,
    idempotency_key: str | None,
) -> BillingResult:
    gateway = await payment_gateway(settings, scope, card)
    request = {"customer_id": customer_id, "product_id": product_id, **card.fingerprint()}

    async def work() -> BillingResult:
        customer = await get_customer(scope, customer_id)
        product = await get_product(scope, product_id)
        if product.is_recurring:
            raise ServiceError(
                "This product is a subscription; use createSubscription.",
                code="INVALID_PRODUCT",
                field=["productId"],
            )
        source = await resolve_source(gateway, scope, customer.id, card)
        payment_id = new_id("pay")
        async with in_transaction():
            invoice = await create_invoice(
                business_id=scope.business_id,
                mode=scope.mode,
                customer_id=customer.id,
                subscription_id=None,
                currency=product.currency,
                items=[InvoiceItem(product.name, product.price_amount, product_id=product.id)],
            )
            payment = await open_payment(
                payment_id,
                scope,
                customer.id,
                source,
                amount=invoice.total_amount,
                currency=product.currency,
                product_id=product.id,
                invoice=invoice,
            )
        try:
            result, saved = await charge_source(gateway, payment, source)
        except GatewayUnavailable:  # the payment stays PROCESSING until the processor tells
            return BillingResult(payment=payment, invoice=invoice, error=unavailable_error())
        error = await finish_one_time(
            settings, payment, invoice, product, source.method, saved, result
        )
        notify_worker()
        await invoice.refresh_from_db()
        return BillingResult(
            payment=payment, invoice=invoice, error=error, client_secret=result.client_secret
        )

    return await with_idempotency(
        settings, scope, caller, idempotency_key, "createPayment", request, work
    )


async def finish_one_time(
    settings: Settings,
    payment: Payment,
    invoice: Invoice,
    product: Product,
    method: PaymentMethod | None,
    saved: SavedCard | None,
    result: ChargeResult,
) -> ServiceError | None:
    """Step three of createPayment (also run by settlement after a crash)."""
    scope = Scope(payment.business_id, payment.mode)
    customer_id: str = payment.customer_id
    async with payment_updates.transaction():
        if not await record_payment_outcome(payment, result, method):
            return None  # settled already
        if not result.final:
            return None  # the invoice stays OPEN until the payment settles
        if not result.succeeded:
            await Invoice.filter(id=invoice.id).update(status=InvoiceStatus.VOID, amount_due=0)
            await payment_event(payment)
            return decline_error(result)
        if method is None and saved is not None:
            await attach_saved_card(scope, customer_id, payment, saved)
        await Invoice.filter(id=invoice.id).update(
            status=InvoiceStatus.PAID, amount_due=0, paid_at=now()
        )
        await invoice.refresh_from_db()
        await send_receipt(settings, payment, invoice, product.name)
        await issue_license_key(product, customer_id=customer_id, payment_id=payment.id)
        await payment_event(payment)
        return None


async def list_payments(
    scope: Scope,
    customer_id: str,
    first: int | None,
    after: str | None,
    related: Collection[str] = (),
    reader: Reader | None = None,
) -> Page[Row]:
    """One customer's payments, newest first, as rows (services/sql.py), with the rows of the
    `related` objects (invoice, subscription, payment_method) read in the same statement."""
    where = scope.customer_filters(customer_id)
    query = JoinedPageQuery(PAYMENTS, where, related, reader) if where is not None else None
    return await keyset_page(query, first, after)
