"""Billing object types. Scalars are plain attributes; related objects come from DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

import models
from resolvers.context import Context
from schema.types import Node
from services.billing.invoice_links import signed_pdf_url
from services.billing.subscriptions import CancellationReason as CancellationReasonEnum
from services.money import format_money

SubscriptionStatus = strawberry.enum(models.SubscriptionStatus)
PaymentStatus = strawberry.enum(models.PaymentStatus)
InvoiceStatus = strawberry.enum(models.InvoiceStatus)
TimeInterval = strawberry.enum(models.TimeInterval)
CancellationReason = strawberry.enum(
    CancellationReasonEnum,
    description="Why a customer cancels (the reasons Stripe and Dodo share).",
)


@strawberry.type(description="An amount in the currency's minor unit (cents; yen for JPY).")
class Money:
    amount: int
    currency: str

    @strawberry.field(description="For people, in the client's language (Accept-Language).")
    def formatted(self, info: Info[Context, None]) -> str:
        return format_money(self.amount, self.currency, info.context.locale)


@strawberry.type
class Product(Node):
    name: str
    description: str | None
    price: Money
    is_recurring: bool
    interval: TimeInterval | None
    interval_count: int | None
    license_key_enabled: bool
    license_key_activations_limit: int | None
    license_key_duration_days: int | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.Product) -> Product:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            description=row.description,
            price=Money(amount=row.price_amount, currency=row.currency),
            is_recurring=row.is_recurring,
            interval=row.interval,
            interval_count=row.interval_count,
            license_key_enabled=row.license_key_enabled,
            license_key_activations_limit=row.license_key_activations_limit,
            license_key_duration_days=row.license_key_duration_days,
            created_at=row.created_at,
        )


@strawberry.type(description="A saved card. Never more of it than this.")
class PaymentMethod(Node):
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @classmethod
    def from_model(cls, row: models.PaymentMethod) -> PaymentMethod:
        return cls(
            id=strawberry.ID(row.id),
            brand=row.brand,
            last4=row.last4,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
        )


async def _load(loader: object, key: str | None, view: object) -> object:
    if key is None:
        return None
    row = await loader.load(key)  # type: ignore[attr-defined]
    return view.from_model(row) if row is not None else None  # type: ignore[attr-defined]


# A connection field loads the related objects of its whole page at once (`prefetch_page`), so
# that the per-node fields return them without an await: an async resolver costs a task per
# node. Views built anywhere else (payloads, `node`) still load on demand through DataLoaders.
NOT_LOADED: Any = object()


def _loaded_or_load(loaded: Any, loader: Any, key: str | None, view: Any) -> Any:
    """The prefetched view, or an awaitable that loads it; Strawberry awaits what needs it."""
    if loaded is not NOT_LOADED:
        return loaded
    return _load(loader, key, view)


async def _attach(
    nodes: Sequence[Any], attr: str, loader: Any, keys: Sequence[str | None], view: Any
) -> None:
    present = [key for key in keys if key is not None]
    rows = dict(zip(present, await loader.load_many(present), strict=True))
    for node, key in zip(nodes, keys, strict=True):
        row = rows.get(key) if key is not None else None
        setattr(node, attr, view.from_model(row) if row is not None else None)


def _selected_names(selections: Iterable[Any], path: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: look inside
            names |= _selected_names(selection.selections, path)
        elif not path:
            names.add(selection.name)
        elif selection.name == path[0]:
            names |= _selected_names(selection.selections, path[1:])
    return names


async def prefetch_page(info: Info[Context, None], nodes: Sequence[Any]) -> None:
    """Loads, through the request's DataLoaders and for all nodes at once, the related objects
    that the current connection field selects on `edges { node { … } }`."""
    if not nodes:
        return
    selections = [s for field in info.selected_fields for s in field.selections]
    wanted = _selected_names(selections, ("edges", "node"))
    await asyncio.gather(*type(nodes[0]).prefetch(info, nodes, wanted))


@strawberry.type
class Subscription(Node):
    status: SubscriptionStatus
    price: Money
    interval: TimeInterval
    interval_count: int
    current_period_start: datetime | None
    next_billing_date: datetime | None
    cancel_at_next_billing_date: bool
    cancelled_at: datetime | None
    cancellation_reason: CancellationReason | None
    cancellation_comment: str | None
    created_at: datetime
    product_id: strawberry.Private[str]
    payment_method_id: strawberry.Private[str | None]
    _product: strawberry.Private[Any] = NOT_LOADED
    _payment_method: strawberry.Private[Any] = NOT_LOADED
    _outstanding: strawberry.Private[Any] = NOT_LOADED

    @classmethod
    def prefetch(
        cls, info: Info[Context, None], nodes: Sequence[Subscription], wanted: set[str]
    ) -> list[Awaitable[None]]:
        loaders = info.context.loaders
        jobs: list[Awaitable[None]] = []
        if "product" in wanted:
            keys = [n.product_id for n in nodes]
            jobs.append(_attach(nodes, "_product", loaders.product, keys, Product))
        if "paymentMethod" in wanted:
            keys = [n.payment_method_id for n in nodes]
            jobs.append(
                _attach(nodes, "_payment_method", loaders.payment_method, keys, PaymentMethod)
            )
        if "outstandingAmount" in wanted:
            jobs.append(_attach_outstanding(info, nodes))
        return jobs

    @classmethod
    def from_model(cls, row: models.Subscription) -> Subscription:
        return cls(
            id=strawberry.ID(row.id),
            status=row.status,
            price=Money(amount=row.price_amount, currency=row.currency),
            interval=row.interval,
            interval_count=row.interval_count,
            current_period_start=row.current_period_start,
            next_billing_date=row.next_billing_date,
            cancel_at_next_billing_date=row.cancel_at_next_billing_date,
            cancelled_at=row.cancelled_at,
            cancellation_reason=CancellationReasonEnum(row.cancellation_reason)
            if row.cancellation_reason
            else None,
            cancellation_comment=row.cancellation_comment,
            created_at=row.created_at,
            product_id=row.product_id,  # type: ignore[attr-defined]
            payment_method_id=row.payment_method_id,  # type: ignore[attr-defined]
        )

    @strawberry.field
    def product(self, info: Info[Context, None]) -> Product:
        loader = info.context.loaders.product
        return _loaded_or_load(self._product, loader, self.product_id, Product)  # type: ignore[no-any-return]

    @strawberry.field
    def payment_method(self, info: Info[Context, None]) -> PaymentMethod | None:
        loader = info.context.loaders.payment_method
        return _loaded_or_load(self._payment_method, loader, self.payment_method_id, PaymentMethod)  # type: ignore[no-any-return]

    @strawberry.field(description="The sum of its OPEN invoices.")
    def outstanding_amount(self, info: Info[Context, None]) -> Money:
        if self._outstanding is not NOT_LOADED:
            return self._outstanding  # type: ignore[no-any-return]
        return _outstanding_of(info, self)  # type: ignore[return-value]


async def _outstanding_of(info: Info[Context, None], subscription: Subscription) -> Money:
    due = await info.context.loaders.outstanding.load(str(subscription.id))
    return Money(amount=due, currency=subscription.price.currency)


async def _attach_outstanding(info: Info[Context, None], nodes: Sequence[Subscription]) -> None:
    due = await info.context.loaders.outstanding.load_many([str(n.id) for n in nodes])
    for node, amount in zip(nodes, due, strict=True):
        node._outstanding = Money(amount=amount, currency=node.price.currency)


@strawberry.type
class Invoice(Node):
    number: str
    status: InvoiceStatus
    total: Money
    amount_due: Money
    issued_at: datetime
    paid_at: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    subscription_id: strawberry.Private[str | None]
    _subscription: strawberry.Private[Any] = NOT_LOADED

    @classmethod
    def prefetch(
        cls, info: Info[Context, None], nodes: Sequence[Invoice], wanted: set[str]
    ) -> list[Awaitable[None]]:
        if "subscription" not in wanted:
            return []
        keys = [n.subscription_id for n in nodes]
        loader = info.context.loaders.subscription
        return [_attach(nodes, "_subscription", loader, keys, Subscription)]

    @classmethod
    def from_model(cls, row: models.Invoice) -> Invoice:
        return cls(
            id=strawberry.ID(row.id),
            number=row.number,
            status=row.status,
            total=Money(amount=row.total_amount, currency=row.currency),
            amount_due=Money(amount=row.amount_due, currency=row.currency),
            issued_at=row.issued_at,
            paid_at=row.paid_at,
            period_start=row.period_start,
            period_end=row.period_end,
            subscription_id=row.subscription_id,  # type: ignore[attr-defined]
        )

    @strawberry.field
    def subscription(self, info: Info[Context, None]) -> Subscription | None:
        loader = info.context.loaders.subscription
        return _loaded_or_load(self._subscription, loader, self.subscription_id, Subscription)  # type: ignore[no-any-return]

    @strawberry.field(description="A link to the PDF that works without a header for 15 minutes.")
    def pdf_url(self, info: Info[Context, None]) -> str:
        return signed_pdf_url(info.context.settings, str(self.id))


@strawberry.type
class Payment(Node):
    status: PaymentStatus
    amount: Money
    created_at: datetime
    failure_code: str | None
    failure_message: str | None
    card_brand: str | None
    card_last4: str | None
    invoice_id: strawberry.Private[str | None]
    subscription_id: strawberry.Private[str | None]
    payment_method_id: strawberry.Private[str | None]
    _invoice: strawberry.Private[Any] = NOT_LOADED
    _payment_method: strawberry.Private[Any] = NOT_LOADED

    @classmethod
    def prefetch(
        cls, info: Info[Context, None], nodes: Sequence[Payment], wanted: set[str]
    ) -> list[Awaitable[None]]:
        loaders = info.context.loaders
        jobs: list[Awaitable[None]] = []
        if "invoice" in wanted:
            keys = [n.invoice_id for n in nodes]
            jobs.append(_attach(nodes, "_invoice", loaders.invoice, keys, Invoice))
        if "paymentMethod" in wanted:
            keys = [n.payment_method_id for n in nodes]
            jobs.append(
                _attach(nodes, "_payment_method", loaders.payment_method, keys, PaymentMethod)
            )
        return jobs

    @classmethod
    def from_model(cls, row: models.Payment) -> Payment:
        return cls(
            id=strawberry.ID(row.id),
            status=row.status,
            amount=Money(amount=row.amount, currency=row.currency),
            created_at=row.created_at,
            failure_code=row.failure_code,
            failure_message=row.failure_message,
            card_brand=row.card_brand,
            card_last4=row.card_last4,
            invoice_id=row.invoice_id,  # type: ignore[attr-defined]
            subscription_id=row.subscription_id,  # type: ignore[attr-defined]
            payment_method_id=row.payment_method_id,  # type: ignore[attr-defined]
        )

    @strawberry.field
    def invoice(self, info: Info[Context, None]) -> Invoice | None:
        loader = info.context.loaders.invoice
        return _loaded_or_load(self._invoice, loader, self.invoice_id, Invoice)  # type: ignore[no-any-return]

    @strawberry.field
    async def subscription(self, info: Info[Context, None]) -> Subscription | None:
        return await _load(  # type: ignore[return-value]
            info.context.loaders.subscription, self.subscription_id, Subscription
        )

    @strawberry.field
    def payment_method(self, info: Info[Context, None]) -> PaymentMethod | None:
        loader = info.context.loaders.payment_method
        return _loaded_or_load(self._payment_method, loader, self.payment_method_id, PaymentMethod)  # type: ignore[no-any-return]
