"""Products: what a business sells, one-time or recurring."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.business import Business
    from models.plans import PlanFamily


class TimeInterval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class TaxCategory(StrEnum):
    """How the product is taxed: the standard rate, the reduced rate (e.g. e-books), or
    exempt (e.g. some education services)."""

    STANDARD = "standard"
    REDUCED = "reduced"
    EXEMPT = "exempt"


class Product(Model):
    id = id_field("pdt")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="products"
    )
    business_id: str
    mode = mode_field()
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    price_amount = fields.BigIntField()  # minor units
    currency = fields.CharField(max_length=3)
    is_recurring = fields.BooleanField(default=False)
    interval = fields.CharEnumField(TimeInterval, max_length=5, null=True)
    interval_count = fields.IntField(null=True)
    license_key_enabled = fields.BooleanField(default=False)
    license_key_activations_limit = fields.IntField(null=True)
    license_key_duration_days = fields.IntField(null=True)
    tax_category = fields.CharEnumField(TaxCategory, max_length=8, default=TaxCategory.STANDARD)
    # The plan family it belongs to: a subscription may switch to any product of its family.
    plan_family: fields.ForeignKeyNullableRelation[PlanFamily] = fields.ForeignKeyField(
        "models.PlanFamily", related_name="products", null=True, on_delete=fields.SET_NULL
    )
    plan_family_id: str | None
    created_at = created_field()

    class Meta:
        table = "product"
        indexes = (("business_id", "mode", "created_at", "id"), ("plan_family_id",))
