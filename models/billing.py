"""Payment methods, subscriptions, invoices and payments."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

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
        indexes = (("business_id", "mode", "customer_id", "created_at"),)


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
    # Set by a conditional update while a charge for this subscription is under way, so that a
    # second concurrent request loses instead of charging twice.
    charging_payment_id = fields.CharField(max_length=40, null=True)
    created_at = created_field()
    updated_at = created_field()

    class Meta:
        table = "subscription"
        indexes = (
            ("business_id", "mode", "customer_id", "created_at"),
            ("business_id", "mode", "created_at"),
            ("status", "next_billing_date"),
        )


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
    created_at = created_field()

    class Meta:
        table = "invoice"
        unique_together = (("business_id", "mode", "number"),)
        indexes = (
            ("business_id", "mode", "customer_id", "created_at"),
            ("business_id", "mode", "created_at"),
            ("subscription_id", "status"),
        )


class InvoiceLine(Model):
    id = id_field("inl")
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="lines"
    )
    invoice_id: str
    description = fields.CharField(max_length=300)
    quantity = fields.IntField(default=1)
    unit_amount = fields.BigIntField()
    amount = fields.BigIntField()
    period_start = fields.DatetimeField(null=True)
    period_end = fields.DatetimeField(null=True)

    class Meta:
        table = "invoice_line"


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
    created_at = created_field()
    updated_at = created_field()

    class Meta:
        table = "payment"
        indexes = (
            ("business_id", "mode", "customer_id", "created_at"),
            ("business_id", "mode", "created_at"),
            ("status", "created_at"),
        )
