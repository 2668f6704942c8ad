"""Idempotency records and the outbox that carries emails and webhook events."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.business import Business


class IdempotencyRecord(Model):
    # The first result for a (business, mode, caller, key); replayed for the same input.

    id = id_field("idk")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="idempotency_records"
    )
    business_id: str
    mode = mode_field()
    caller = fields.CharField(max_length=40)  # API key id or customer id
    key = fields.CharField(max_length=255)
    operation = fields.CharField(max_length=64)
    request_hash = fields.CharField(max_length=64)
    response: fields.JSONField[Any] = fields.JSONField(null=True)  # null while running
    created_at = created_field()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_record"
        unique_together = (("business_id", "mode", "caller", "key"),)
        indexes = (("expires_at",),)


class OutboxKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    TASK = "task"  # work done after commit by the worker (e.g. answering a login request)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the last retry; kept for the record


class OutboxMessage(Model):
    # Written in the same transaction as the change that causes it; delivered after commit.
    #
    # `payload` is encrypted with the server's secret: an email body can carry a one-time link,
    # which must not sit readable in the database. It is cleared once delivered.

    id = id_field("msg")
    business: fields.ForeignKeyNullableRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="outbox_messages", null=True
    )
    business_id: str | None
    mode = fields.CharField(max_length=4, null=True)
    kind = fields.CharEnumField(OutboxKind, max_length=8)
    topic = fields.CharField(max_length=64)
    recipient = fields.CharField(max_length=320, null=True)
    payload = fields.TextField(null=True)
    status = fields.CharEnumField(OutboxStatus, max_length=8, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = created_field()
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    created_at = created_field()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("status", "next_attempt_at"), ("business_id", "mode", "created_at"))


class TrustedDocument(Model):
    # A GraphQL document a merchant registered: with PORTAL_TRUSTED_DOCUMENTS on, the only
    # documents /graphql executes. Keyed by the SHA-256 of its text (hex), as clients send it in
    # extensions.persistedQuery.sha256Hash.

    id = fields.CharField(primary_key=True, max_length=64)
    document = fields.TextField()
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="trusted_documents"
    )
    business_id: str
    created_at = created_field()

    class Meta:
        table = "trusted_document"
