"""License keys issued with purchases, and the devices they are activated on."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.billing import Payment, Subscription
    from models.business import Business
    from models.catalog import Product
    from models.customer import Customer


class LicenseKeyStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    DISABLED = "disabled"


class LicenseKey(Model):
    id = id_field("lic")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="license_keys"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="license_keys"
    )
    customer_id: str
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="license_keys"
    )
    product_id: str
    subscription: fields.ForeignKeyNullableRelation[Subscription] = fields.ForeignKeyField(
        "models.Subscription", related_name="license_keys", null=True
    )
    subscription_id: str | None
    payment: fields.ForeignKeyNullableRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name="license_keys", null=True
    )
    payment_id: str | None
    key = fields.CharField(max_length=64, unique=True)
    disabled = fields.BooleanField(default=False)
    activations_limit = fields.IntField(null=True)
    instances_count = fields.IntField(default=0)
    expires_at = fields.DatetimeField(null=True)
    created_at = created_field()

    class Meta:
        table = "license_key"
        indexes = (
            ("business_id", "mode", "customer_id", "created_at", "id"),
            ("business_id", "mode", "created_at", "id"),
            ("product_id",),
            ("subscription_id",),
            ("payment_id",),
        )


class LicenseKeyInstance(Model):
    id = id_field("lki")
    license_key: fields.ForeignKeyRelation[LicenseKey] = fields.ForeignKeyField(
        "models.LicenseKey", related_name="instances"
    )
    license_key_id: str
    name = fields.CharField(max_length=200)
    created_at = created_field()

    class Meta:
        table = "license_key_instance"
        indexes = (("license_key_id", "created_at", "id"),)
