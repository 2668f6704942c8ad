"""Billing object types, built from rows (services/sql.py) or models.

Every field is a plain attribute: a field with a resolver costs Strawberry an Info object and
argument parsing per object, which for a dashboard of a few hundred objects is most of the
request. A related object is either already there (a connection reads the related rows its
query selects in the page's own statement: `page_nodes`, services/billing/related_rows.py) or
a `Deferred` that loads it through the request's DataLoaders when it is awaited; graphql-core
awaits whatever a field holds that is awaitable. Views built from models (mutation payloads,
`node`) take the second way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

import strawberry
from graphql import OperationDefinitionNode
from strawberry.types import Info
from strawberry.types.nodes import SelectedField
from tortoise.models import Model

import models
from resolvers import billing as resolve
from resolvers import invoicing as resolve_invoicing
from resolvers.context import Context
from resolvers.rows import as_row
from resolvers.types import Row
from schema.types import Deferred, Node

if TYPE_CHECKING:
    from schema.invoicing import InvoiceLine, Refund

strawberry.enum(
    models.SubscriptionStatus,
    description="Where a subscription stands. PENDING: its first payment is under way (or "
    "waits for the customer to authenticate). ACTIVE: paid, renews on nextBillingDate. ON_HOLD: "
    "a renewal failed; its OPEN invoices wait for updatePaymentMethod. PAUSED: not renewed "
    "until resumed (pauseSubscription, resumeSubscription). CANCELLED: ended, by the "
    "customer or at its period end. FAILED: its first payment failed, it never started. "
    "EXPIRED: ended by its terms (in the contract; this server does not set it today).",
)
SubscriptionStatus = models.SubscriptionStatus
strawberry.enum(
    models.PaymentStatus,
    description="Where a payment stands. SUCCEEDED: the money was taken. FAILED: declined or "
    "refused; failureCode says why. PROCESSING: sent to the processor, outcome not known yet "
    "(settled later by asking again). REQUIRES_ACTION: the customer's bank wants them to "
    "authenticate (3-D Secure); see Payment.nextAction. REQUIRES_CUSTOMER_ACTION: in the "
    "contract; this server uses REQUIRES_ACTION instead. CANCELLED: given up before the "
    "processor was asked.",
)
PaymentStatus = models.PaymentStatus
strawberry.enum(
    models.InvoiceStatus,
    description="OPEN: issued, amountDue still owed. PAID: paid by a payment (a credit note is "
    "PAID when it is issued). VOID: nothing is owed any more (the first charge failed, or the "
    "subscription was cancelled while ON_HOLD).",
)
InvoiceStatus = models.InvoiceStatus
strawberry.enum(
    models.TimeInterval,
    description="The unit of a billing period, multiplied by intervalCount. DAY: a day. WEEK: "
    "seven days. MONTH: a calendar month (the same day of the month, or its last day). YEAR: "
    "a calendar year.",
)
strawberry.enum(
    models.TaxCategory,
    description="How a product is taxed: the standard rate, the reduced rate of the country "
    "whose VAT applies, or exempt. STANDARD: the standard rate. REDUCED: the lowest reduced "
    "rate of at least 5 % (e.g. e-books). EXEMPT: no VAT (e.g. some education services).",
)
strawberry.enum(
    models.InvoiceKind,
    description="INVOICE: a bill for a purchase or a period. CREDIT_NOTE: corrects an invoice "
    "after a refund, numbered in a series of its own (CN-000001).",
)
InvoiceKind = models.InvoiceKind
TimeInterval = models.TimeInterval
strawberry.enum(
    models.CancellationReason,
    description="Why a customer cancels (the reasons Stripe and Dodo share). TOO_EXPENSIVE: "
    "costs too much. MISSING_FEATURES: lacks something they need. SWITCHED_SERVICE: moved to "
    "another provider. UNUSED: they do not use it enough. CUSTOMER_SERVICE: unhappy with the "
    "support. LOW_QUALITY: unhappy with the quality. TOO_COMPLEX: too hard to use. OTHER: "
    "anything else; see the comment.",
)
CancellationReason = models.CancellationReason


def view_of(view: Any, row: Row, ctx: Context) -> Any:
    """The request's view of a row, built once per object (see Context.views)."""
    key = (view, row["id"])
    found = ctx.views.get(key)
    if found is None:
        found = ctx.views[key] = view.from_row(row, ctx)
    return found


async def _load_view(loader: Any, key: str, view: Any, ctx: Context) -> Any:
    row = await loader.load(key)
    return None if row is None else view_of(view, row, ctx)


NOT_JOINED: Any = object()


def _related(row: Row, name: str, loader: Any, view: Any, ctx: Context) -> Any:
    """The related object `name`: its view when the row came with it (a page's JOIN, see
    services/billing/related_rows.py), else a Deferred load through the request's DataLoader."""
    joined = row.get(name, NOT_JOINED)
    if joined is not NOT_JOINED:
        return None if joined is None else view_of(view, joined, ctx)
    key = row[f"{name}_id"]
    return None if key is None else Deferred(_load_view, loader, key, view, ctx)


def _members(enum: Any) -> dict[str, Any]:
    """Value → member, for reading enum columns faster than calling the enum."""
    return {member.value: member for member in enum}


_SUBSCRIPTION_STATUS = _members(models.SubscriptionStatus)
_INVOICE_STATUS = _members(models.InvoiceStatus)
_PAYMENT_STATUS = _members(models.PaymentStatus)
_INTERVAL = _members(models.TimeInterval)
_TAX_CATEGORY = _members(models.TaxCategory)
_INVOICE_KIND = _members(models.InvoiceKind)


@strawberry.type(description="An amount in the currency's minor unit (cents; yen for JPY).")
class Money:
    amount: int = strawberry.field(
        description="An integer in the currency's minor unit: 1999 is EUR 19.99, 500 is JPY 500."
    )
    currency: str = strawberry.field(description="ISO 4217 code, upper case, e.g. EUR.")
    formatted: str = strawberry.field(
        description="For people, in the client's language (Accept-Language)."
    )


def money(amount: int, currency: str, ctx: Context) -> Money:
    return Money(
        amount=amount,
        currency=currency,
        formatted=resolve.money_text(amount, currency, ctx.locale),
    )


class RowView:
    """`from_model` for views that are read from rows: the model's values as a row."""

    @classmethod
    def from_row(cls, row: Row, ctx: Context) -> Self:
        raise NotImplementedError

    @classmethod
    def from_model(cls, instance: Model, ctx: Context) -> Self:
        return cls.from_row(as_row(instance), ctx)

    @classmethod
    async def complete_page(
        cls, ctx: Context, nodes: Sequence[Any], wanted: frozenset[str]
    ) -> None:
        """What a page of these views needs beyond their rows, for the `wanted` fields."""


@strawberry.type(
    description="Something the business sells, once or by subscription. Listed for the "
    "merchant's API key (products); customers see it through their subscriptions and keys."
)
class Product(Node, RowView):
    name: str = strawberry.field(description="As customers see it, on invoices too.")
    description: str | None = strawberry.field(description="Free text; null when none was given.")
    price: Money = strawberry.field(description="Per purchase, or per billing period.")
    is_recurring: bool = strawberry.field(
        description="True for a subscription product (it has an interval)."
    )
    interval: TimeInterval | None = strawberry.field(
        description="The billing period's unit; null for a one-time product."
    )
    interval_count: int | None = strawberry.field(
        description="Periods of `interval` per billing period, e.g. 3 with MONTH is quarterly; "
        "null for a one-time product."
    )
    license_key_enabled: bool = strawberry.field(description="A purchase issues a license key.")
    license_key_activations_limit: int | None = strawberry.field(
        description="Devices each issued key may be activated on; null: unlimited."
    )
    license_key_duration_days: int | None = strawberry.field(
        description="Days an issued key is valid; null: no end of its own (a subscription's key "
        "follows the subscription)."
    )
    tax_category: models.TaxCategory = strawberry.field(
        description="For the VAT on its invoices (once the business has legal details)."
    )
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")

    @classmethod
    def from_row(cls, row: Row, ctx: Context) -> Product:
        interval = row["interval"]
        return cls(
            id=strawberry.ID(row["id"]),
            name=row["name"],
            description=row["description"],
            price=money(row["price_amount"], row["currency"], ctx),
            is_recurring=row["is_recurring"],
            interval=None if interval is None else _INTERVAL[interval],
            interval_count=row["interval_count"],
            license_key_enabled=row["license_key_enabled"],
            license_key_activations_limit=row["license_key_activations_limit"],
            license_key_duration_days=row["license_key_duration_days"],
            tax_category=_TAX_CATEGORY[row["tax_category"]],
            created_at=row["created_at"],
        )


@strawberry.type(description="A saved card. Never more of it than this.")
class PaymentMethod(Node, RowView):
    brand: str = strawberry.field(
        description="Lower case, e.g. visa, mastercard, amex, discover; unknown when not known."
    )
    last4: str = strawberry.field(description="The card number's last four digits.")
    exp_month: int = strawberry.field(description="Expiry month, 1 to 12.")
    exp_year: int = strawberry.field(description="Expiry year, four digits.")

    @classmethod
    def from_row(cls, row: Row, ctx: Context) -> PaymentMethod:
        return cls(
            id=strawberry.ID(row["id"]),
            brand=row["brand"],
            last4=row["last4"],
            exp_month=row["exp_month"],
            exp_year=row["exp_year"],
        )


# A connection's page


@dataclass(frozen=True)
class Selection:
    """What a connection field asks for on `edges { … }` and on `edges { node { … } }`."""

    edges: frozenset[str]
    nodes: frozenset[str]


# Selections by operation and path: the parser cache shares one document, and so one operation
# node, between requests that send the same query; the node is kept, so its id is not reused
# while the entry exists. What is selected only decides what a page reads or encodes up front:
# anything else is still loaded when a query asks for it.
_SELECTIONS: dict[tuple[int, tuple[str, ...]], tuple[OperationDefinitionNode, Selection]] = {}
_SELECTIONS_KEPT = 512


def _path_key(info: Info[Context, None]) -> tuple[str, ...]:
    """The field's path without list indices: the same for each item of a list."""
    keys: list[str] = []
    path: Any = info.path
    while path is not None:
        if isinstance(path.key, str):
            keys.append(path.key)
        path = path.prev
    return tuple(keys)


def connection_selection(info: Info[Context, None]) -> Selection:
    operation = info.operation
    key = (id(operation), _path_key(info))
    cached = _SELECTIONS.get(key)
    if cached is not None and cached[0] is operation:
        return cached[1]
    selections = [s for field in info.selected_fields for s in field.selections]
    selection = Selection(
        edges=frozenset(_selected_names(selections, ("edges",))),
        nodes=frozenset(_selected_names(selections, ("edges", "node"))),
    )
    if len(_SELECTIONS) >= _SELECTIONS_KEPT:
        _SELECTIONS.clear()
    _SELECTIONS[key] = (operation, selection)
    return selection


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


def related_rows(view: Any, wanted: frozenset[str]) -> set[str]:
    """The related objects (by row key) to read with the page's rows, for the wanted fields."""
    return {name for field, name in view.RELATED.items() if field in wanted}


async def page_nodes(
    ctx: Context, view: Any, rows: Sequence[Row], wanted: frozenset[str]
) -> list[Any]:
    """The page's views, with what the wanted fields need loaded for all of them at once.
    Built from the page's own rows, which carry the related rows the page joined, even where
    another list of this request already built a view of the same object (without them);
    the later views of that object are these."""
    nodes = [view.from_row(row, ctx) for row in rows]
    views = ctx.views
    for node, row in zip(nodes, rows, strict=True):
        views[(view, row["id"])] = node
    if nodes:
        await view.complete_page(ctx, nodes, wanted)
    return nodes


@strawberry.type(
    description="A customer's recurring purchase of a product. Readable with the merchant's "
    "API key of its mode and by the customer's own portal session."
)
class Subscription(Node, RowView):
    status: SubscriptionStatus = strawberry.field(description="Where it stands.")
    price: Money = strawberry.field(
        description="Charged per billing period: the product's price when it was subscribed."
    )
    interval: TimeInterval = strawberry.field(description="The billing period's unit.")
    interval_count: int = strawberry.field(description="Periods of `interval` per billing period.")
    current_period_start: datetime | None = strawberry.field(
        description="Start of the paid period; null until the first payment succeeds. ISO "
        "8601, UTC."
    )
    next_billing_date: datetime | None = strawberry.field(
        description="When the next period is charged (or the subscription ends, with "
        "cancelAtNextBillingDate); null until the first payment succeeds. ISO 8601, UTC."
    )
    cancel_at_next_billing_date: bool = strawberry.field(
        description="True when it ends at nextBillingDate instead of renewing."
    )
    cancelled_at: datetime | None = strawberry.field(
        description="When it was CANCELLED; null while it runs. ISO 8601, UTC."
    )
    cancellation_reason: CancellationReason | None = strawberry.field(
        description="The customer's reason for cancelling, when given."
    )
    cancellation_comment: str | None = strawberry.field(
        description="The customer's words on cancelling, when given (at most 2000 characters)."
    )
    paused_at: datetime | None = strawberry.field(
        description="When it was PAUSED; null unless PAUSED. ISO 8601, UTC."
    )
    pause_at_next_billing_date: bool = strawberry.field(
        description="True when it pauses at nextBillingDate instead of renewing."
    )
    resume_at: datetime | None = strawberry.field(
        description="When a PAUSED subscription (or one set to pause) resumes by itself; null: "
        "only when resumed. ISO 8601, UTC."
    )
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")
    product: Product = strawberry.field(description="What is subscribed to.")
    payment_method: PaymentMethod | None = strawberry.field(
        description="The saved card renewals are charged to; null when none is on file."
    )
    outstanding_amount: Money = strawberry.field(description="The sum of its OPEN invoices.")

    # GraphQL field → what a page can read with its rows, in the same statement.
    RELATED: ClassVar[dict[str, str]] = {
        "product": "product",
        "paymentMethod": "payment_method",
        "outstandingAmount": "outstanding",
    }

    @classmethod
    def from_row(cls, row: Row, ctx: Context) -> Subscription:
        loaders = ctx.loaders
        reason = row["cancellation_reason"]
        subscription_id = row["id"]
        currency = row["currency"]
        outstanding = row.get("outstanding")
        return cls(
            id=strawberry.ID(subscription_id),
            status=_SUBSCRIPTION_STATUS[row["status"]],
            price=money(row["price_amount"], currency, ctx),
            interval=_INTERVAL[row["interval"]],
            interval_count=row["interval_count"],
            current_period_start=row["current_period_start"],
            next_billing_date=row["next_billing_date"],
            cancel_at_next_billing_date=row["cancel_at_next_billing_date"],
            cancelled_at=row["cancelled_at"],
            cancellation_reason=models.CancellationReason(reason) if reason else None,
            cancellation_comment=row["cancellation_comment"],
            paused_at=row["paused_at"],
            pause_at_next_billing_date=row["pause_at_next_billing_date"],
            resume_at=row["resume_at"],
            created_at=row["created_at"],
            product=_related(row, "product", loaders.product, Product, ctx),
            payment_method=_related(
                row, "payment_method", loaders.payment_method, PaymentMethod, ctx
            ),
            outstanding_amount=Deferred(_outstanding, ctx, subscription_id, currency)  # type: ignore[arg-type]
            if outstanding is None
            else money(int(outstanding), currency, ctx),
        )


async def _outstanding(ctx: Context, subscription_id: str, currency: str) -> Money:
    return money(await ctx.loaders.outstanding.load(subscription_id), currency, ctx)


async def _pdf_url(ctx: Context, invoice_id: str) -> str:
    return resolve.pdf_url(ctx, invoice_id)


async def _receipt_url(ctx: Context, invoice_id: str) -> str | None:
    return resolve.pdf_url(ctx, invoice_id)


@strawberry.type(description="One line of an invoice's VAT breakdown.")
class InvoiceTaxRate:
    category: str = strawberry.field(
        description="EN 16931's VAT category: S standard, Z zero, E exempt, AE reverse charge, "
        "O not subject to VAT."
    )
    rate: Decimal = strawberry.field(description="Percent, e.g. 19.")
    taxable_amount: Money = strawberry.field(description="The net amount this rate applies to.")
    tax_amount: Money = strawberry.field(
        description="The VAT at this rate, rounded once for the group."
    )
    exemption_reason: str | None = strawberry.field(
        description="Why no VAT is charged (E, AE, O), in the client's language."
    )

    @classmethod
    def of(cls, group: dict[str, Any], currency: str, ctx: Context) -> InvoiceTaxRate:
        exemption = group.get("exemption")
        return cls(
            category=group["category"],
            rate=Decimal(group["rate"]),
            taxable_amount=money(int(group["taxable_amount"]), currency, ctx),
            tax_amount=money(int(group["tax_amount"]), currency, ctx),
            exemption_reason=_note(exemption, ctx) if exemption else None,
        )


def _note(texts: dict[str, Any], ctx: Context) -> str:
    return str(texts["de"] if ctx.locale == "de" else texts["en"])


@strawberry.type(
    description="An invoice or credit note; never changes once issued. Readable with the "
    "merchant's API key of its mode and by the customer's own portal session."
)
class Invoice(Node, RowView):
    number: str = strawberry.field(
        description="Gapless per business and mode: INV-000001 (TEST-INV-… in test mode); "
        "credit notes CN-000001 (TEST-CN-…)."
    )
    status: InvoiceStatus = strawberry.field(description="OPEN, PAID or VOID.")
    total: Money = strawberry.field(
        description="The gross total, VAT included: what is charged (or, for a credit note, "
        "refunded)."
    )
    amount_due: Money = strawberry.field(
        description="What is still owed: the total while OPEN, 0 once PAID or VOID."
    )
    issued_at: datetime = strawberry.field(description="ISO 8601, UTC.")
    paid_at: datetime | None = strawberry.field(
        description="When it was paid; null unless PAID. ISO 8601, UTC."
    )
    period_start: datetime | None = strawberry.field(
        description="Start of the billed period; null for a one-time purchase. ISO 8601, UTC."
    )
    period_end: datetime | None = strawberry.field(
        description="End of the billed period; null for a one-time purchase. ISO 8601, UTC."
    )
    subscription: Subscription | None = strawberry.field(
        description="The subscription it bills; null for a one-time purchase."
    )
    pdf_url: str = strawberry.field(
        description="A link to the PDF that works without a header for 15 minutes. With the "
        "business's legal details it is a Factur-X (ZUGFeRD) PDF/A-3 carrying the e-invoice."
    )
    kind: InvoiceKind = strawberry.field(
        description="INVOICE, or CREDIT_NOTE: a correction after a refund, numbered in a "
        "series of its own."
    )
    subtotal: Money | None = strawberry.field(
        description="The net total; null: issued before the business set its legal details "
        "(no VAT)."
    )
    tax: Money = strawberry.field(description="The VAT total.")
    tax_rates: list[InvoiceTaxRate] = strawberry.field(
        description="The VAT breakdown: net and VAT per category and rate."
    )
    notes: list[str] = strawberry.field(
        description="What the law asks the invoice to say (reverse charge, § 19 UStG, …), in "
        "the client's language."
    )
    xml_url: str | None = strawberry.field(
        description="A link to the EN 16931 e-invoice (XRechnung 3.0 CII when the details "
        "allow it, else Factur-X EN 16931 CII) that works without a header for 15 minutes; "
        "null when the invoice was issued without the business's legal details."
    )
    credit_note_for: Invoice | None = strawberry.field(
        default=None, description="For a credit note: the invoice it corrects; else null."
    )

    RELATED: ClassVar[dict[str, str]] = {"subscription": "subscription"}

    @strawberry.field(description="The lines, in order.")
    async def lines(
        self, info: Info[Context, None]
    ) -> list[Annotated[InvoiceLine, strawberry.lazy("schema.invoicing")]]:
        from schema.invoicing import line_view

        rows = await resolve_invoicing.invoice_lines(str(self.id))
        return [line_view(row, self.total.currency, info.context) for row in rows]

    @strawberry.field(description="The credit notes that correct this invoice, oldest first.")
    async def credit_notes(self, info: Info[Context, None]) -> list[Invoice]:
        notes = await resolve_invoicing.credit_notes_of(info.context, str(self.id))
        return [Invoice.from_model(note, info.context) for note in notes]

    @classmethod
    def from_row(cls, row: Row, ctx: Context) -> Invoice:
        invoice_id = row["id"]
        currency = row["currency"]
        return cls(
            id=strawberry.ID(invoice_id),
            number=row["number"],
            status=_INVOICE_STATUS[row["status"]],
            total=money(row["total_amount"], currency, ctx),
            amount_due=money(row["amount_due"], currency, ctx),
            issued_at=row["issued_at"],
            paid_at=row["paid_at"],
            period_start=row["period_start"],
            period_end=row["period_end"],
            subscription=_related(row, "subscription", ctx.loaders.subscription, Subscription, ctx),
            pdf_url=Deferred(_pdf_url, ctx, invoice_id),  # type: ignore[arg-type]
            kind=_INVOICE_KIND[row["kind"]],
            subtotal=None if row["net_amount"] is None else money(row["net_amount"], currency, ctx),
            tax=money(row["tax_amount"], currency, ctx),
            tax_rates=[
                InvoiceTaxRate.of(group, currency, ctx) for group in row["tax_breakdown"] or ()
            ],
            notes=[_note(note, ctx) for note in row["notes"] or ()],
            xml_url=None
            if row["tax_breakdown"] is None
            else resolve_invoicing.xml_url(ctx, invoice_id),
            credit_note_for=_related(row, "credit_note_for", ctx.loaders.invoice, Invoice, ctx),
        )

    @classmethod
    async def complete_page(
        cls, ctx: Context, nodes: Sequence[Invoice], wanted: frozenset[str]
    ) -> None:
        if "pdfUrl" in wanted:  # signed now rather than awaited per invoice
            for node in nodes:
                node.pdf_url = resolve.pdf_url(ctx, str(node.id))


@strawberry.enum(description="What the customer's browser has to do.")
class NextActionType(Enum):
    AUTHENTICATE = strawberry.enum_value(
        "authenticate",
        description="The customer authenticates with their bank (3-D Secure) through Stripe.js: "
        "confirmCardSetup(clientSecret) for a card being saved (a SetupIntent's secret, "
        "seti_…), confirmCardPayment(clientSecret) for a payment (pi_…).",
    )


@strawberry.type(
    description="What the customer must do before a payment or a saved card completes."
)
class NextAction:
    type: NextActionType = strawberry.field(description="What to do: AUTHENTICATE.")
    client_secret: str = strawberry.field(
        description="For Stripe.js (confirmCardPayment or confirmCardSetup). Never stored by us."
    )
    publishable_key: str = strawberry.field(description="The business's Stripe publishable key.")


async def next_action(ctx: Context, client_secret: str | None) -> NextAction | None:
    if not client_secret:
        return None
    key = await resolve.publishable_key(ctx)
    if key is None:
        return None
    return NextAction(
        type=NextActionType.AUTHENTICATE, client_secret=client_secret, publishable_key=key
    )


@strawberry.type(
    description="One attempt to take money from a card, successful or not. Readable with the "
    "merchant's API key of its mode and by the customer's own portal session."
)
class Payment(Node, RowView):
    status: PaymentStatus = strawberry.field(description="Where it stands.")
    amount: Money = strawberry.field(description="What was (or was to be) charged.")
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")
    failure_code: str | None = strawberry.field(
        description="Why a FAILED payment failed, a userErrors code such as CARD_DECLINED, "
        "INSUFFICIENT_FUNDS, EXPIRED_CARD, INCORRECT_CVC, PROCESSING_ERROR, "
        "AUTHENTICATION_FAILED, or for a renewal NO_PAYMENT_METHOD; null otherwise."
    )
    failure_message: str | None = strawberry.field(
        description="The failure for people, in English; null unless FAILED."
    )
    card_brand: str | None = strawberry.field(
        description="The brand of the card charged (e.g. visa), kept even when the card is not."
    )
    card_last4: str | None = strawberry.field(
        description="The last four digits of the card charged."
    )
    invoice: Invoice | None = strawberry.field(description="The invoice it pays.")
    subscription: Subscription | None = strawberry.field(
        description="The subscription it pays for; null for a one-time purchase."
    )
    payment_method: PaymentMethod | None = strawberry.field(
        description="The saved card charged; null for a card given inline and not saved."
    )
    product: Product | None = strawberry.field(
        description="What was bought: the one-time product, or the subscription's product for "
        "a subscription's payment; null only for payments recorded before this was kept."
    )
    receipt_url: str | None = strawberry.field(
        description="The receipt: a link to the PDF of the invoice this payment paid (the same "
        "signed link as Invoice.pdfUrl, working without a header for 15 minutes); null unless "
        "the payment SUCCEEDED for an invoice."
    )
    refunded_amount: Money = strawberry.field(
        description="How much of the payment has been refunded (or is being refunded)."
    )

    @strawberry.field(description="Its refunds, oldest first.")
    async def refunds(
        self, info: Info[Context, None]
    ) -> list[Annotated[Refund, strawberry.lazy("schema.invoicing")]]:
        from schema.invoicing import Refund as RefundView

        rows = await resolve_invoicing.refunds_of(info.context, str(self.id))
        return [RefundView.of(row, info.context) for row in rows]

    @strawberry.field(
        description="Set while the payment waits for the customer to authenticate (3-D Secure): "
        "what their browser needs. Asked of the payment processor, never stored."
    )
    async def next_action(self, info: Info[Context, None]) -> NextAction | None:
        if self.status != models.PaymentStatus.REQUIRES_ACTION:
            return None
        secret = await resolve.next_action_secret(info.context, str(self.id))
        return await next_action(info.context, secret)

    RELATED: ClassVar[dict[str, str]] = {
        "invoice": "invoice",
        "subscription": "subscription",
        "paymentMethod": "payment_method",
        "product": "product",
    }

    @classmethod
    def from_row(cls, row: Row, ctx: Context) -> Payment:
        loaders = ctx.loaders
        return cls(
            id=strawberry.ID(row["id"]),
            status=_PAYMENT_STATUS[row["status"]],
            amount=money(row["amount"], row["currency"], ctx),
            created_at=row["created_at"],
            failure_code=row["failure_code"],
            failure_message=row["failure_message"],
            card_brand=row["card_brand"],
            card_last4=row["card_last4"],
            refunded_amount=money(row["refunded_amount"], row["currency"], ctx),
            invoice=_related(row, "invoice", loaders.invoice, Invoice, ctx),
            subscription=_related(row, "subscription", loaders.subscription, Subscription, ctx),
            payment_method=_related(
                row, "payment_method", loaders.payment_method, PaymentMethod, ctx
            ),
            product=_related(row, "product", loaders.product, Product, ctx),
            receipt_url=Deferred(_receipt_url, ctx, row["invoice_id"])  # type: ignore[arg-type]
            if row["status"] == models.PaymentStatus.SUCCEEDED and row["invoice_id"]
            else None,
        )

    @classmethod
    async def complete_page(
        cls, ctx: Context, nodes: Sequence[Payment], wanted: frozenset[str]
    ) -> None:
        if "receiptUrl" in wanted:  # signed now rather than awaited per payment
            for node in nodes:
                if isinstance(node.receipt_url, Deferred):
                    node.receipt_url = resolve.pdf_url(ctx, node.receipt_url.args[1])
