"""Merchants' webhook endpoints, the events we emit, and each delivery attempt."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field


class WebhookEndpoint(Model):
    id = id_field("whk")
    business = fields.ForeignKeyField("models.Business", related_name="webhook_endpoints")
    mode = mode_field()
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=500, null=True)
    event_types = fields.JSONField(null=True)  # null: every event
    secret = fields.CharField(max_length=200)  # encrypted at rest
    previous_secret = fields.CharField(max_length=200, null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    failing_since = fields.DatetimeField(null=True)
    created_at = created_field()

    class Meta:
        table = "webhook_endpoint"
        indexes = (("business_id", "mode", "created_at"),)


class WebhookEvent(Model):
    id = id_field("evt")
    business = fields.ForeignKeyField("models.Business", related_name="webhook_events")
    mode = mode_field()
    type = fields.CharField(max_length=64)
    payload = fields.JSONField()
    created_at = created_field()

    class Meta:
        table = "webhook_event"
        indexes = (("business_id", "mode", "created_at"),)


class WebhookAttempt(Model):
    id = id_field("wha")
    event = fields.ForeignKeyField("models.WebhookEvent", related_name="attempts")
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="attempts")
    attempt = fields.IntField()
    succeeded = fields.BooleanField(default=False)
    response_status = fields.IntField(null=True)
    duration_ms = fields.IntField(null=True)
    error = fields.CharField(max_length=500, null=True)
    created_at = created_field()

    class Meta:
        table = "webhook_attempt"
        indexes = (("event_id", "created_at"), ("endpoint_id", "created_at"))
