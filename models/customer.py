"""A business's customer, in one mode."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.business import Business


class Customer(Model):
    id = id_field("cus")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="customers"
    )
    business_id: str
    mode = mode_field()
    email = fields.CharField(max_length=320)
    # Lower-cased copy: emails are unique per business and mode, compared case-insensitively.
    email_normalized = fields.CharField(max_length=320)
    name = fields.CharField(max_length=200, null=True)
    phone_number = fields.CharField(max_length=20, null=True)
    locale = fields.CharField(max_length=8, null=True)
    # The processor's customer (Stripe `cus_…`), made on first need; customers are per mode.
    gateway_customer = fields.CharField(max_length=255, null=True)
    # Who buys, as invoices show it; later edits apply to later invoices only.
    billing_name = fields.CharField(max_length=200, null=True)
    company = fields.CharField(max_length=200, null=True)
    address_line1 = fields.CharField(max_length=200, null=True)
    address_line2 = fields.CharField(max_length=200, null=True)
    postal_code = fields.CharField(max_length=20, null=True)
    city = fields.CharField(max_length=100, null=True)
    country = fields.CharField(max_length=2, null=True)  # ISO 3166-1 alpha-2
    vat_id = fields.CharField(max_length=20, null=True)  # checked: format and check digits
    created_at = created_field()
    updated_at = created_field()

    class Meta:
        table = "customer"
        unique_together = (("business_id", "mode", "email_normalized"),)
        indexes = (("business_id", "mode", "created_at", "id"),)
