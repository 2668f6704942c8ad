"""Subscriptions: created with a first charge, changed by the merchant, cancelled by the
customer."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import (
    CancellationReason,
    Invoice,
    InvoiceStatus,
    Mode,
    Payment,
    PaymentMethod,
    PlanChange,
    PlanChangeStatus,
    Product,
    Subscription,
    SubscriptionStatus,
)
from models.clock import now
from models.ids import new_id, well_formed
from services import payment_updates
from services.billing.charging import (
    BillingResult,
    CardInput,
    PaymentSource,
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
from services.billing.notifications import send_cancelled, send_receipt
from services.billing.periods import add_interval
from services.billing.products import get_product
from services.billing.related_rows import SUBSCRIPTIONS, JoinedPageQuery, Reader
from services.customers import get_customer
from services.errors import InvalidState, NotFound, ServiceError
from services.events import payment_event, subscription_event
from services.licensing import issue_license_key
from services.outbox import notify_worker
from services.pagination import Page, keyset_page
from services.payments.gateway import ChargeResult, PaymentGateway, SavedCard
from services.payments.stripe_gateway import GatewayUnavailable
from services.scope import Scope
from services.sql import Row

if TYPE_CHECKING:
    from services.settings import Settings


async def get_subscription(scope: Scope, subscription_id: str) -> Subscription:
    subscription = (
        await Subscription.get_or_none(id=subscription_id, **scope.filters())
        if well_formed(subscription_id, "sub")
        else None
    )
    if subscription is None:
        raise NotFound("subscription", field=["subscriptionId"])
    return subscription


async def list_subscriptions(
    scope: Scope,
    customer_id: str,
    first: int | None,
    after: str | None,
    status: SubscriptionStatus | None = None,
    related: Collection[str] = (),
    reader: Reader | None = None,
) -> Page[Row]:
    """One customer's subscriptions, newest first, as rows (services/sql.py), with the rows of
    the `related` objects (product, payment_method) and, if `related` names it, the
    `outstanding` amount (the sum of OPEN invoices) read in the same statement."""
    where = scope.customer_filters(customer_id)
    if where is not None and status is not None:
        where["status"] = status
    query = JoinedPageQuery(SUBSCRIPTIONS, where, related, reader) if where is not None else None
    return await keyset_page(query, first, after)


async def create_subscription(
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
        if not product.is_recurring or product.interval is None:
            raise ServiceError(
                "This product is sold once; use createPayment.",
                code="INVALID_PRODUCT",
                field=["productId"],
            )
        source = await resolve_source(gateway, scope, customer.id, card)
        return await start_subscription(settings, gateway, scope, customer.id, product, source)

    return await with_idempotency(
        settings, scope, caller, idempotency_key, "createSubscription", request, work
    )


async def start_subscription(
    settings: Settings,
    gateway: PaymentGateway,
    scope: Scope,
    customer_id: str,
    product: Product,
    source: PaymentSource,
) -> BillingResult:
    assert product.interval is not None
    start = now()
    end = add_interval(start, product.interval, product.interval_count or 1)
    payment_id = new_id("pay")
    async with in_transaction():
        subscription = await Subscription.create(
            business_id=scope.business_id,
            mode=scope.mode,
            customer_id=customer_id,
            product=product,
            payment_method=source.method,
            status=SubscriptionStatus.PENDING,
            price_amount=product.price_amount,
            currency=product.currency,
            interval=product.interval,
            interval_count=product.interval_count or 1,
            charging_payment_id=payment_id,
        )
        invoice = await create_invoice(
            business_id=scope.business_id,
            mode=scope.mode,
            customer_id=customer_id,
            subscription_id=subscription.id,
            currency=product.currency,
            period_start=start,
            period_end=end,
            items=[
                InvoiceItem(
                    product.name,
                    product.price_amount,
                    period_start=start,
                    period_end=end,
                    product_id=product.id,
                )
            ],
        )
        payment = await open_payment(
            payment_id,
            scope,
            customer_id,
            source,
            amount=invoice.total_amount,
            currency=product.currency,
            product_id=product.id,
            invoice=invoice,
            subscription=subscription,
        )
    try:
        result, saved = await charge_source(gateway, payment, source)
    except GatewayUnavailable:  # the payment stays PROCESSING until the processor tells
        return BillingResult(subscription, payment, invoice, unavailable_error())
    error = await finish_first_charge(
        settings, subscription, invoice, payment, product, source.method, saved, result
    )
    notify_worker()
    await subscription.refresh_from_db()
    await payment.refresh_from_db()
    await invoice.refresh_from_db()
    return BillingResult(subscription, payment, invoice, error, result.client_secret)


async def finish_first_charge(
    settings: Settings,
    subscription: Subscription,
    invoice: Invoice,
    payment: Payment,
    product: Product,
    method: PaymentMethod | None,
    saved: SavedCard | None,
    result: ChargeResult,
) -> ServiceError | None:
    """Step three of createSubscription (also run by settlement after a crash): ACTIVE with a
    PAID invoice, or FAILED with the invoice void. Runs once per payment."""
    scope = Scope(subscription.business_id, subscription.mode)
    customer_id: str = subscription.customer_id
    at = now()
    async with payment_updates.transaction():
        if not await record_payment_outcome(payment, result, method):
            return None  # settled already
        if not result.final:
            return None  # PENDING, with its invoice OPEN, until the payment settles
        if result.succeeded and method is None and saved is not None:
            method = await attach_saved_card(scope, customer_id, payment, saved)
        if result.succeeded:
            await Invoice.filter(id=invoice.id).update(
                status=InvoiceStatus.PAID, amount_due=0, paid_at=at
            )
            await Subscription.filter(id=subscription.id).update(
                status=SubscriptionStatus.ACTIVE,
                payment_method_id=method.id if method else None,
                current_period_start=invoice.period_start,
                next_billing_date=invoice.period_end,
                charging_payment_id=None,
                updated_at=at,
            )
            await invoice.refresh_from_db()
            await send_receipt(settings, payment, invoice, product.name)
            await issue_license_key(
                product,
                customer_id=customer_id,
                subscription_id=subscription.id,
                payment_id=payment.id,
            )
            await subscription.refresh_from_db()
            await payment_event(payment)
            await subscription_event("subscription.active", subscription)
            return None
        # Nothing is owed for a subscription that never started.
        await Invoice.filter(id=invoice.id).update(status=InvoiceStatus.VOID, amount_due=0)
        await Subscription.filter(id=subscription.id).update(
            status=SubscriptionStatus.FAILED, charging_payment_id=None, updated_at=at
        )
        await subscription.refresh_from_db()
        await payment_event(payment)
        await subscription_event("subscription.failed", subscription)
        return decline_error(result)


async def update_subscription(
    scope: Scope,
    subscription_id: str,
    *,
    next_billing_date: datetime | None = None,
    cancel_at_next_billing_date: bool | None = None,
) -> Subscription:
    subscription = await get_subscription(scope, subscription_id)
    changes: dict[str, object] = {}
    if next_billing_date is not None:
        if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.ON_HOLD):
            raise InvalidState(
                "Only an active or on-hold subscription has a billing date to move.",
                field=["nextBillingDate"],
            )
        if next_billing_date.tzinfo is None:
            raise ServiceError(
                "nextBillingDate needs a time zone.",
                code="BAD_USER_INPUT",
                field=["nextBillingDate"],
            )
        if scope.mode == Mode.LIVE and next_billing_date <= now():
            raise ServiceError(
                "In live mode the next billing date must be in the future.",
                code="INVALID_DATE",
                field=["nextBillingDate"],
            )
        changes["next_billing_date"] = next_billing_date
    if cancel_at_next_billing_date is not None:
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise InvalidState(
                "Only an active subscription can be set to end at its next billing date.",
                field=["cancelAtNextBillingDate"],
            )
        changes["cancel_at_next_billing_date"] = cancel_at_next_billing_date
    if changes:
        changes["updated_at"] = now()
        async with in_transaction():
            changed = await Subscription.filter(
                id=subscription.id, charging_payment_id__isnull=True
            ).update(**changes)
            if changed != 1:
                raise InvalidState(
                    "A payment for this subscription is under way. Try again shortly.",
                    code="PAYMENT_IN_PROGRESS",
                    field=["subscriptionId"],
                )
            await subscription.refresh_from_db()
            await subscription_event("subscription.updated", subscription)
    return subscription


async def cancel_subscription(
    settings: Settings,
    scope: Scope,
    subscription_id: str,
    *,
    at_period_end: bool,
    reason: CancellationReason | None,
    comment: str | None,
) -> Subscription:
    subscription = await get_subscription(scope, subscription_id)
    comment = (comment or "").strip()[:2000] or None
    fields: dict[str, object] = {
        "cancellation_reason": reason.value if reason else None,
        "cancellation_comment": comment,
        "updated_at": now(),
        # A cancellation replaces a pause that was set for the period end.
        "pause_at_next_billing_date": False,
        "resume_at": None,
    }
    async with in_transaction():
        if at_period_end:
            fields["cancel_at_next_billing_date"] = True
            changed = await Subscription.filter(
                id=subscription.id, status=SubscriptionStatus.ACTIVE
            ).update(**fields)
        else:
            # A downgrade scheduled for the period end will not happen either.
            fields.update(
                status=SubscriptionStatus.CANCELLED,
                cancelled_at=now(),
                scheduled_plan_change_id=None,
            )
            changed = await Subscription.filter(
                id=subscription.id,
                status__in=[
                    SubscriptionStatus.ACTIVE,
                    SubscriptionStatus.ON_HOLD,
                    SubscriptionStatus.PAUSED,
                ],
                charging_payment_id__isnull=True,
            ).update(**fields)
        if changed != 1:
            raise InvalidState(
                "This subscription cannot be cancelled in its current state.",
                field=["subscriptionId"],
            )
        if not at_period_end:
            # What an ended subscription still "owed" for a period it will not get is void.
            await Invoice.filter(subscription_id=subscription.id, status=InvoiceStatus.OPEN).update(
                status=InvoiceStatus.VOID, amount_due=0
            )
            await PlanChange.filter(
                subscription_id=subscription.id, status=PlanChangeStatus.SCHEDULED
            ).update(status=PlanChangeStatus.CANCELLED, cancelled_at=now())
        await subscription.refresh_from_db()
        product = await Product.get(id=subscription.product_id)
        await send_cancelled(settings, subscription, product)
        await subscription_event(
            "subscription.updated" if at_period_end else "subscription.cancelled", subscription
        )
    notify_worker()
    return subscription


async def undo_cancellation(scope: Scope, subscription_id: str) -> Subscription:
    subscription = await get_subscription(scope, subscription_id)
    async with in_transaction():
        changed = await Subscription.filter(
            id=subscription.id, status=SubscriptionStatus.ACTIVE, cancel_at_next_billing_date=True
        ).update(
            cancel_at_next_billing_date=False,
            cancellation_reason=None,
            cancellation_comment=None,
            updated_at=now(),
        )
        if changed != 1:
            raise InvalidState(
                "Only a subscription set to end at its period end can be resumed.",
                field=["subscriptionId"],
            )
        await subscription.refresh_from_db()
        await subscription_event("subscription.updated", subscription)
    return subscription
