"""How a business takes payments in each mode: its gateway, the card setups under way, and the
processor events already handled."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.business import Business
    from models.customer import Customer


class GatewayProvider(StrEnum):
    TEST = "test"  # the simulator with the documented test cards (test mode only)
    STRIPE = "stripe"


class PaymentGatewayConfig(Model):
    # A business's gateway in one mode. The secret key and the webhook signing secret are
    # sealed with the server's secret and never read back through the API.

    id = id_field("gwc")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="gateway_configs"
    )
    business_id: str
    mode = mode_field()
    provider = fields.CharEnumField(GatewayProvider, max_length=8)
    secret_key = fields.CharField(max_length=500, null=True)
    publishable_key = fields.CharField(max_length=255, null=True)
    webhook_secret = fields.CharField(max_length=500, null=True)
    configured_at = created_field()

    class Meta:
        table = "payment_gateway_config"
        unique_together = (("business_id", "mode"),)


class CardSetup(Model):
    # A card being saved for later off-session charges, waiting for the customer's bank to be
    # satisfied (3-D Secure): the processor's setup and the card it is for.

    id = id_field("cst")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="card_setups"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="card_setups"
    )
    customer_id: str
    gateway_setup = fields.CharField(max_length=255)
    gateway_payment_method = fields.CharField(max_length=255)
    completed_at = fields.DatetimeField(null=True)
    created_at = created_field()

    class Meta:
        table = "card_setup"
        indexes = (("business_id", "mode", "customer_id", "created_at"),)


class GatewayEvent(Model):
    # A processor's event that was handled, so that a repeat is acknowledged and nothing more.

    id = fields.CharField(primary_key=True, max_length=255)  # the processor's event id
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="gateway_events"
    )
    business_id: str
    mode = mode_field()
    type = fields.CharField(max_length=100)
    received_at = created_field()

    class Meta:
        table = "gateway_event"
        indexes = (("business_id", "mode", "received_at"),)
