"""Payment methods, subscriptions, invoices and payments."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field
from models.catalog import TimeInterval

if TYPE_CHECKING:
    from models.business import Business
    from models.catalog import Product
    from models.customer import Customer


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    PAUSED = "paused"  # no renewals until resumed (services/billing/pauses.py)
    CANCELLED = "cancelled"
    FAILED = "failed"
    EXPIRED = "expired"


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PROCESSING = "processing"
    REQUIRES_CUSTOMER_ACTION = "requires_customer_action"
    # The customer's bank wants them to authenticate (3-D Secure) before the charge is made.
    REQUIRES_ACTION = "requires_action"
    CANCELLED = "cancelled"


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"  # reverses (part of) an invoice after a refund


class RefundStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"  # sent to the processor, outcome not known yet


class CancellationReason(StrEnum):
    """The reasons Stripe and Dodo share."""

    TOO_EXPENSIVE = "too_expensive"
    MISSING_FEATURES = "missing_features"
    SWITCHED_SERVICE = "switched_service"
    UNUSED = "unused"
    CUSTOMER_SERVICE = "customer_service"
    LOW_QUALITY = "low_quality"
    TOO_COMPLEX = "too_complex"
    OTHER = "other"


class PaymentMethod(Model):
    # A saved card: the gateway's token and what may be shown of the card, nothing more.

    id = id_field("pm")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="payment_methods"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="payment_methods"
    )
    customer_id: str
    gateway_token = fields.CharField(max_length=200)
    brand = fields.CharField(max_length=20)
    last4 = fields.CharField(max_length=4)
    exp_month = fields.SmallIntField()
    exp_year = fields.SmallIntField()
    created_at = created_field()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payment_method"
        # A customer's cards are read by customer id (the DataLoader of `paymentMethods`).
        indexes = (("customer_id", "created_at", "id"),)


class Subscription(Model):
    id = id_field("sub")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="subscriptions"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="subscriptions"
    )
    customer_id: str
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="subscriptions"
    )
    product_id: str
    payment_method: fields.ForeignKeyNullableRelation[PaymentMethod] = fields.ForeignKeyField(
        "models.PaymentMethod", related_name="subscriptions", null=True
    )
    payment_method_id: str | None
    status = fields.CharEnumField(SubscriptionStatus, max_length=10)
    price_amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    interval = fields.CharEnumField(TimeInterval, max_length=5)
    interval_count = fields.IntField(default=1)
    current_period_start = fields.DatetimeField(null=True)
    next_billing_date = fields.DatetimeField(null=True)
    cancel_at_next_billing_date = fields.BooleanField(default=False)
    cancelled_at = fields.DatetimeField(null=True)
    cancellation_reason = fields.CharField(max_length=32, null=True)
    cancellation_comment = fields.TextField(null=True)
    # Pauses (services/billing/pauses.py): when it was PAUSED, whether it pauses at its next
    # billing date instead of renewing, and when a PAUSED subscription resumes by itself.
    paused_at = fields.DatetimeField(null=True)
    pause_at_next_billing_date = fields.BooleanField(default=False)
    resume_at = fields.DatetimeField(null=True)
    # Set by a conditional update while a charge for this subscription is under way, so that a
    # second concurrent request loses instead of charging twice.
    charging_payment_id = fields.CharField(max_length=40, null=True)
    # A downgrade waiting for the period end (models/plans.py), set by a conditional update so
    # that at most one is scheduled.
    scheduled_plan_change_id = fields.CharField(max_length=40, null=True)
    created_at = created_field()
    updated_at = created_field()

    class Meta:
        table = "subscription"
        indexes = (
            ("business_id", "mode", "customer_id", "created_at", "id"),
            ("business_id", "mode", "created_at", "id"),
            ("status", "next_billing_date"),
            ("payment_method_id", "status"),
            ("product_id",),
        )


class CreditNoteCounter(Model):
    # Credit notes are numbered in a gapless series of their own, per business and mode.

    id = fields.IntField(primary_key=True)
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="credit_note_counters"
    )
    business_id: str
    mode = mode_field()
    last_number = fields.BigIntField(default=0)

    class Meta:
        table = "credit_note_counter"
        unique_together = (("business_id", "mode"),)


class InvoiceCounter(Model):
    # The last invoice number handed out per business and mode (gapless numbering).

    id = fields.IntField(primary_key=True)
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="invoice_counters"
    )
    business_id: str
    mode = mode_field()
    last_number = fields.BigIntField(default=0)

    class Meta:
        table = "invoice_counter"
        unique_together = (("business_id", "mode"),)


class Invoice(Model):
    id = id_field("inv")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="invoices"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="invoices"
    )
    customer_id: str
    subscription: fields.ForeignKeyNullableRelation[Subscription] = fields.ForeignKeyField(
        "models.Subscription", related_name="invoices", null=True
    )
    subscription_id: str | None
    number = fields.CharField(max_length=40)
    status = fields.CharEnumField(InvoiceStatus, max_length=4)
    currency = fields.CharField(max_length=3)
    total_amount = fields.BigIntField()
    amount_due = fields.BigIntField()
    period_start = fields.DatetimeField(null=True)
    period_end = fields.DatetimeField(null=True)
    issued_at = created_field()
    paid_at = fields.DatetimeField(null=True)
    kind = fields.CharEnumField(InvoiceKind, max_length=11, default=InvoiceKind.INVOICE)
    # The invoice a credit note reverses.
    credit_note_for: fields.ForeignKeyNullableRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="credit_notes", null=True
    )
    credit_note_for_id: str | None
    # What the invoice says, fixed when it is issued (later edits of the parties' details
    # apply to later invoices): net and tax totals, the parties, the VAT breakdown, the notes
    # the law asks for. total_amount is the gross. Null details: issued without tax settings.
    net_amount = fields.BigIntField(null=True)
    tax_amount = fields.BigIntField(default=0)
    prices_include_tax = fields.BooleanField(default=False)
    seller: fields.JSONField[Any] = fields.JSONField(null=True)
    buyer: fields.JSONField[Any] = fields.JSONField(null=True)
    tax_breakdown: fields.JSONField[Any] = fields.JSONField(null=True)
    notes: fields.JSONField[Any] = fields.JSONField(null=True)  # [{"de": …, "en": …}]
    created_at = created_field()

    class Meta:
        table = "invoice"
        unique_together = (("business_id", "mode", "number"),)
        indexes = (
            ("business_id", "mode", "customer_id", "created_at", "id"),
            ("business_id", "mode", "created_at", "id"),
            ("subscription_id", "status"),
            ("credit_note_for_id",),
        )


class InvoiceLine(Model):
    id = id_field("inl")
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="lines"
    )
    invoice_id: str
    description = fields.CharField(max_length=300)
    quantity = fields.IntField(default=1)
    unit_amount = fields.BigIntField()  # as priced: gross or net, as the invoice says
    amount = fields.BigIntField()  # quantity * unit_amount
    period_start = fields.DatetimeField(null=True)
    period_end = fields.DatetimeField(null=True)
    net_amount = fields.BigIntField(null=True)
    tax_category = fields.CharField(max_length=2, null=True)  # EN 16931: S, Z, E, AE, O
    tax_rate = fields.CharField(max_length=8, null=True)  # percent, a decimal as text

    class Meta:
        table = "invoice_line"
        indexes = (("invoice_id",),)


class Payment(Model):
    id = id_field("pay")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="payments"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="payments"
    )
    customer_id: str
    subscription: fields.ForeignKeyNullableRelation[Subscription] = fields.ForeignKeyField(
        "models.Subscription", related_name="payments", null=True
    )
    subscription_id: str | None
    # What was bought: settlement after a crash finishes the purchase of exactly this product.
    product: fields.ForeignKeyNullableRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="payments", null=True
    )
    product_id: str | None
    invoice: fields.ForeignKeyNullableRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="payments", null=True
    )
    invoice_id: str | None
    payment_method: fields.ForeignKeyNullableRelation[PaymentMethod] = fields.ForeignKeyField(
        "models.PaymentMethod", related_name="payments", null=True
    )
    payment_method_id: str | None
    status = fields.CharEnumField(PaymentStatus, max_length=24)
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    card_brand = fields.CharField(max_length=20, null=True)
    card_last4 = fields.CharField(max_length=4, null=True)
    failure_code = fields.CharField(max_length=40, null=True)
    failure_message = fields.CharField(max_length=300, null=True)
    gateway_reference = fields.CharField(max_length=200, null=True)
    # A new card given to a charge (the processor's payment method): saved once it is paid.
    gateway_payment_method = fields.CharField(max_length=255, null=True)
    # Charged without the customer present (a renewal): asked about again the same way.
    off_session = fields.BooleanField(default=False)
    # Refunds reserve their amount here first (a conditional update): together they never
    # exceed the amount, also when several are asked for at once.
    refunded_amount = fields.BigIntField(default=0)
    created_at = created_field()
    updated_at = created_field()

    class Meta:
        table = "payment"
        indexes = (
            ("business_id", "mode", "customer_id", "created_at", "id"),
            ("business_id", "mode", "created_at", "id"),
            ("status", "created_at"),
            ("subscription_id",),
            ("invoice_id",),
            ("payment_method_id",),
            ("product_id",),
            # A processor's webhook names the charge by its reference.
            ("business_id", "mode", "gateway_reference"),
        )


class Refund(Model):
    # Money given back for (part of) a successful payment, through the gateway that took it,
    # with the credit note that documents it.

    id = id_field("ref")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="refunds"
    )
    business_id: str
    mode = mode_field()
    payment: fields.ForeignKeyRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name="refunds"
    )
    payment_id: str
    customer_id = fields.CharField(max_length=40)
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    status = fields.CharEnumField(RefundStatus, max_length=9)
    reason = fields.CharField(max_length=300, null=True)
    gateway_reference = fields.CharField(max_length=200, null=True)
    failure_message = fields.CharField(max_length=300, null=True)
    credit_note: fields.ForeignKeyNullableRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="refunds", null=True
    )
    credit_note_id: str | None
    created_at = created_field()

    class Meta:
        table = "refund"
        indexes = (
            ("business_id", "mode", "created_at"),
            ("payment_id", "created_at"),
            ("credit_note_id",),
            ("status", "created_at"),  # the sweep of refunds left PENDING
        )
