"""Merchants' webhook endpoints, the events we emit, their deliveries and each attempt."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.business import Business


class WebhookDisabledReason(StrEnum):
    MANUAL = "manual"  # the merchant turned it off
    GONE = "gone"  # the endpoint answered 410 Gone
    FAILING = "failing"  # it kept failing for days


class WebhookEndpoint(Model):
    id = id_field("whk")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="webhook_endpoints"
    )
    business_id: str
    mode = mode_field()
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=500, null=True)
    event_types: fields.JSONField[Any] = fields.JSONField(null=True)  # null: every event
    secret = fields.CharField(max_length=200)  # encrypted at rest
    previous_secret = fields.CharField(max_length=200, null=True)  # encrypted; signs until expiry
    previous_secret_expires_at = fields.DatetimeField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.CharEnumField(WebhookDisabledReason, max_length=8, null=True)
    failing_since = fields.DatetimeField(null=True)  # first failure since the last success
    created_at = created_field()

    class Meta:
        table = "webhook_endpoint"
        indexes = (("business_id", "mode", "created_at", "id"),)


class WebhookEvent(Model):
    id = id_field("evt")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="webhook_events"
    )
    business_id: str
    mode = mode_field()
    type = fields.CharField(max_length=64)
    payload: fields.JSONField[Any] = fields.JSONField()
    created_at = created_field()

    class Meta:
        table = "webhook_event"
        indexes = (("business_id", "mode", "created_at", "id"),)


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every scheduled attempt failed, or the endpoint answered 410
    CANCELLED = "cancelled"  # the endpoint was disabled before it got through


class WebhookDelivery(Model):
    # One event on its way to one endpoint. A redelivery is a new row, with its own attempts.
    #
    # A worker claims a due row by setting `locked_until` and its own `claim_token` with a
    # conditional update, makes the HTTP call outside any transaction, and records the outcome
    # only while its token still holds the row.

    id = id_field("whd")
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "models.WebhookEvent", related_name="deliveries"
    )
    event_id: str
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries"
    )
    endpoint_id: str
    status = fields.CharEnumField(
        WebhookDeliveryStatus, max_length=10, default=WebhookDeliveryStatus.PENDING
    )
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)  # null once finished
    locked_until = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=40, null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    last_response_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = created_field()

    class Meta:
        table = "webhook_delivery"
        indexes = (
            ("status", "next_attempt_at"),
            ("event_id", "created_at"),
            ("endpoint_id", "created_at"),
        )


class WebhookAttempt(Model):
    id = id_field("wha")
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "models.WebhookEvent", related_name="attempts"
    )
    event_id: str
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="attempts"
    )
    endpoint_id: str
    delivery: fields.ForeignKeyNullableRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="attempt_log", null=True
    )
    delivery_id: str | None
    attempt = fields.IntField()  # 1 for the first attempt of its delivery
    succeeded = fields.BooleanField(default=False)
    response_status = fields.IntField(null=True)
    duration_ms = fields.IntField(null=True)
    error = fields.CharField(max_length=500, null=True)
    created_at = created_field()

    class Meta:
        table = "webhook_attempt"
        indexes = (
            ("event_id", "created_at", "id"),
            ("endpoint_id", "created_at", "id"),
            ("delivery_id",),
        )
