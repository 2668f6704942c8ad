"""How customers get in: one-time links and the portal sessions they are exchanged for."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.base import created_field, id_field, mode_field

if TYPE_CHECKING:
    from models.business import Business
    from models.customer import Customer


class LinkPurpose(StrEnum):
    SIGN_IN = "sign_in"  # from the static login page
    PORTAL = "portal"  # created by the merchant through the API
    CONFIRM_EMAIL = "confirm_email"  # confirms a new email address of a customer


class LoginLink(Model):
    # A one-time link. Only the SHA-256 of its 256-bit token is stored.

    id = id_field("lnk")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="login_links"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="login_links"
    )
    customer_id: str
    purpose = fields.CharEnumField(LinkPurpose, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    new_email = fields.CharField(max_length=320, null=True)
    return_url = fields.CharField(max_length=2000, null=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = created_field()

    class Meta:
        table = "login_link"
        indexes = (("business_id", "mode", "customer_id", "created_at"),)


class PortalSession(Model):
    # The row a portal JWT's `sid` points at, so that a session can be revoked.

    id = id_field("ses")
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="portal_sessions"
    )
    business_id: str
    mode = mode_field()
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="portal_sessions"
    )
    customer_id: str
    return_url = fields.CharField(max_length=2000, null=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    created_at = created_field()

    class Meta:
        table = "portal_session"
        indexes = (("business_id", "mode", "customer_id", "created_at"),)
