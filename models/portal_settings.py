"""What a business lets its customers do in the portal, per mode."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, mode_field

if TYPE_CHECKING:
    from models.business import Business


class CustomerCancellation(StrEnum):
    NOW = "now"  # at once or at the end of the period, as the customer chooses
    AT_PERIOD_END = "at_period_end"  # only at the end of the paid period
    NOT_ALLOWED = "not_allowed"


class PortalSettings(Model):
    # One row per business and mode, made on the first change; until then the defaults below
    # (services/portal_settings.py: DEFAULTS) apply, which are the portal's behaviour before
    # these settings existed.

    id = fields.IntField(primary_key=True)
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="portal_settings"
    )
    business_id: str
    mode = mode_field()
    customer_cancellation = fields.CharEnumField(
        CustomerCancellation, max_length=13, default=CustomerCancellation.NOW
    )
    customer_pause = fields.BooleanField(default=False)
    customer_change_plan = fields.BooleanField(default=False)
    customer_update_payment_methods = fields.BooleanField(default=True)
    customer_edit_profile = fields.BooleanField(default=True)
    customer_view_invoices = fields.BooleanField(default=True)
    customer_restart = fields.BooleanField(default=False)
    multiple_subscriptions_per_product = fields.BooleanField(default=True)
    updated_at = created_field()

    class Meta:
        table = "portal_settings"
        unique_together = (("business_id", "mode"),)
