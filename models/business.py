"""A merchant's business and its API keys."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field


class Business(Model):
    id = id_field("bus")
    name = fields.CharField(max_length=200)
    support_email = fields.CharField(max_length=320)
    locale = fields.CharField(max_length=8, default="en")
    logo_url = fields.CharField(max_length=500, null=True)
    accent_color = fields.CharField(max_length=7, null=True)
    # Where the portal's "Back to {name}" link goes when a portal link carries no returnUrl
    # of its own (checked like one: https, or http on localhost).
    portal_return_url = fields.CharField(max_length=2000, null=True)
    # IANA name (Europe/Berlin) for the times in emails and pages; null: the default rule
    # (services/business_settings.time_zone_of).
    time_zone = fields.CharField(max_length=64, null=True)
    # Who sells, as invoices must say (§ 14 UStG, Art. 226 of the VAT Directive). Until the
    # country is set, invoices carry no VAT and no e-invoice is made.
    legal_name = fields.CharField(max_length=200, null=True)
    address_line1 = fields.CharField(max_length=200, null=True)
    address_line2 = fields.CharField(max_length=200, null=True)
    postal_code = fields.CharField(max_length=20, null=True)
    city = fields.CharField(max_length=100, null=True)
    country = fields.CharField(max_length=2, null=True)  # ISO 3166-1 alpha-2
    vat_id = fields.CharField(max_length=20, null=True)
    tax_number = fields.CharField(max_length=40, null=True)  # e.g. the German Steuernummer
    registration = fields.CharField(max_length=200, null=True)  # e.g. "HRB 12345 B, AG Berlin"
    phone = fields.CharField(max_length=40, null=True)  # the invoice contact's (XRechnung)
    small_business = fields.BooleanField(default=False)  # § 19 UStG: no VAT
    prices_include_tax = fields.BooleanField(default=False)
    created_at = created_field()

    class Meta:
        table = "business"


class ApiKey(Model):
    # Only the SHA-256 of the key is kept; the key itself is shown once, at creation.

    id = id_field("key")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="api_keys"
    )
    business_id: str
    mode = mode_field()
    key_hash = fields.CharField(max_length=64, unique=True)
    hint = fields.CharField(max_length=20)  # e.g. "sk_test_…a1b2", for dashboards and logs
    created_at = created_field()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
        indexes = (("business_id", "mode"),)
