"""License keys issued with purchases, and the devices they are activated on."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field


class LicenseKeyStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    DISABLED = "disabled"


class LicenseKey(Model):
    id = id_field("lic")
    business = fields.ForeignKeyField("models.Business", related_name="license_keys")
    mode = mode_field()
    customer = fields.ForeignKeyField("models.Customer", related_name="license_keys")
    product = fields.ForeignKeyField("models.Product", related_name="license_keys")
    subscription = fields.ForeignKeyField(
        "models.Subscription", related_name="license_keys", null=True
    )
    payment = fields.ForeignKeyField("models.Payment", related_name="license_keys", null=True)
    key = fields.CharField(max_length=64, unique=True)
    disabled = fields.BooleanField(default=False)
    activations_limit = fields.IntField(null=True)
    instances_count = fields.IntField(default=0)
    expires_at = fields.DatetimeField(null=True)
    created_at = created_field()

    class Meta:
        table = "license_key"
        indexes = (
            ("business_id", "mode", "customer_id", "created_at"),
            ("business_id", "mode", "created_at"),
        )


class LicenseKeyInstance(Model):
    id = id_field("lki")
    license_key = fields.ForeignKeyField("models.LicenseKey", related_name="instances")
    name = fields.CharField(max_length=200)
    created_at = created_field()

    class Meta:
        table = "license_key_instance"
        indexes = (("license_key_id", "created_at"),)
