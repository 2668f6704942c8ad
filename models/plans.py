"""Plan families (which products a subscription may switch between) and plan changes (an
upgrade applied now, or a downgrade scheduled for the end of the period)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.billing import Subscription
    from models.business import Business


class PlanFamily(Model):
    # Products of one family may be switched between; a product is in at most one family.

    id = id_field("plf")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="plan_families"
    )
    business_id: str
    mode = mode_field()
    name = fields.CharField(max_length=200)
    created_at = created_field()

    class Meta:
        table = "plan_family"
        indexes = (("business_id", "mode", "created_at"),)


class PlanChangeKind(StrEnum):
    UPGRADE = "upgrade"  # applied now, the prorated difference charged
    DOWNGRADE = "downgrade"  # scheduled for the end of the period


class PlanChangeStatus(StrEnum):
    PENDING = "pending"  # an upgrade whose charge is under way
    SCHEDULED = "scheduled"  # a downgrade waiting for the period end
    APPLIED = "applied"
    CANCELLED = "cancelled"  # a scheduled downgrade taken back, or its subscription ended
    FAILED = "failed"  # an upgrade whose charge failed: nothing changed


class PlanChange(Model):
    id = id_field("pch")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="plan_changes"
    )
    business_id: str
    mode = mode_field()
    subscription: fields.ForeignKeyRelation[Subscription] = fields.ForeignKeyField(
        "models.Subscription", related_name="plan_changes"
    )
    subscription_id: str
    customer_id = fields.CharField(max_length=40)
    kind = fields.CharEnumField(PlanChangeKind, max_length=9)
    status = fields.CharEnumField(PlanChangeStatus, max_length=9)
    from_product_id = fields.CharField(max_length=40)
    to_product_id = fields.CharField(max_length=40)
    effective_at = fields.DatetimeField()
    requested_by_customer = fields.BooleanField(default=False)  # else by the merchant's key
    # What the upgrade cost (as priced, before VAT) and the invoice and payment that took it.
    credit_amount = fields.BigIntField(default=0)
    charge_amount = fields.BigIntField(default=0)
    currency = fields.CharField(max_length=3)
    invoice_id = fields.CharField(max_length=40, null=True)
    payment_id = fields.CharField(max_length=40, null=True)
    created_at = created_field()
    applied_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "plan_change"
        indexes = (
            ("subscription_id", "status"),
            ("payment_id",),
            ("business_id", "mode", "created_at"),
        )
