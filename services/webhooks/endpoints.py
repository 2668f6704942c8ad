"""A merchant's webhook endpoints: create, change, disable, delete, rotate the secret.

The secret (`whsec_…`) is shown once, when it is made; the database holds it sealed with the
server's secret key, because the server must sign with it and so cannot keep just a hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import Business
from models.clock import now
from models.ids import well_formed
from models.webhooks import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookDisabledReason,
    WebhookEndpoint,
)
from services.errors import InvalidState, NotFound, ServiceError
from services.outbox import secret_box
from services.pagination import OrmPageQuery, Page, keyset_page
from services.scope import Scope
from services.sql import Row
from services.webhooks.addresses import check_endpoint_url
from services.webhooks.event_types import clean_event_types
from services.webhooks.signing import new_secret

if TYPE_CHECKING:
    from services.settings import Settings

ROTATION_OVERLAP = timedelta(hours=24)
MAX_DESCRIPTION = 500
ENDPOINT_FIELD = ["webhookEndpointId"]


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str  # plaintext, for the one response that shows it


class _Unset:
    pass


UNSET = _Unset()


def _merchant(scope: Scope) -> Scope:
    # Endpoints belong to the merchant; a customer's scope never reaches them.
    if scope.customer_id is not None:
        raise NotFound("webhook endpoint", field=ENDPOINT_FIELD)
    return scope


def _description(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = " ".join(value.split())
    if len(cleaned) > MAX_DESCRIPTION:
        raise ServiceError(
            f"Use at most {MAX_DESCRIPTION} characters.", code="TOO_LONG", field=["description"]
        )
    return cleaned


async def _url(settings: Settings, url: str) -> str:
    return await check_endpoint_url(
        url, require_https=settings.production, allow_private=settings.webhook_allow_private
    )


def signing_secrets(secret_key: str, endpoint: WebhookEndpoint, at: datetime) -> list[str]:
    """The secrets that sign a delivery at `at`: the current one, and during the 24 hours after a
    rotation also the previous one."""
    box = secret_box(secret_key)
    found = [box.open(endpoint.secret)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > at:
        found.append(box.open(endpoint.previous_secret))
    return found


async def get_endpoint(
    scope: Scope, endpoint_id: str, field: list[str] | None = None
) -> WebhookEndpoint:
    scope = _merchant(scope)
    row = (
        await WebhookEndpoint.get_or_none(
            id=endpoint_id, business_id=scope.business_id, mode=scope.mode
        )
        if well_formed(endpoint_id, "whk")
        else None
    )
    if row is None:
        raise NotFound("webhook endpoint", field=field or ENDPOINT_FIELD)
    return row


async def list_endpoints(scope: Scope, first: int | None, after: str | None) -> Page[Row]:
    scope = _merchant(scope)
    query = WebhookEndpoint.filter(business_id=scope.business_id, mode=scope.mode)
    return await keyset_page(OrmPageQuery(query, ENDPOINT_COLUMNS), first, after)


# What an endpoint's view shows (never its secrets).
ENDPOINT_COLUMNS = (
    "id",
    "url",
    "description",
    "event_types",
    "disabled_at",
    "disabled_reason",
    "failing_since",
    "previous_secret_expires_at",
    "created_at",
)


async def create_endpoint(
    settings: Settings,
    scope: Scope,
    *,
    url: str,
    event_types: list[str] | None,
    description: str | None,
) -> EndpointWithSecret:
    scope = _merchant(scope)
    types = clean_event_types(event_types)
    cleaned_description = _description(description)
    cleaned_url = await _url(settings, url)
    secret = new_secret()
    async with in_transaction():
        # Creations for one business wait for each other here (a row lock on PostgreSQL; a
        # SQLite transaction runs alone anyway), so the count below cannot be outrun.
        await Business.filter(id=scope.business_id).select_for_update().first()
        count = await WebhookEndpoint.filter(business_id=scope.business_id, mode=scope.mode).count()
        if count >= settings.webhook_endpoints_max:
            raise ServiceError(
                f"A business has at most {settings.webhook_endpoints_max} webhook endpoints per "
                "mode. Delete one you no longer use, or send several event types to one.",
                code="LIMIT_REACHED",
                field=["url"],
            )
        endpoint = await WebhookEndpoint.create(
            business_id=scope.business_id,
            mode=scope.mode,
            url=cleaned_url,
            description=cleaned_description,
            event_types=types,
            secret=secret_box(settings.secret_key).seal(secret),
        )
    return EndpointWithSecret(endpoint, secret)


async def update_endpoint(
    settings: Settings,
    scope: Scope,
    endpoint_id: str,
    *,
    url: str | _Unset = UNSET,
    event_types: list[str] | _Unset | None = UNSET,
    description: str | _Unset | None = UNSET,
    disabled: bool | None = None,
) -> WebhookEndpoint:
    """Changes what is given. `disabled=False` turns an endpoint on again and forgets its past
    failures; deliveries cancelled while it was off can be sent again with redeliverEvent."""
    endpoint = await get_endpoint(scope, endpoint_id)
    changes: dict[str, object] = {}
    if not isinstance(url, _Unset):
        changes["url"] = await _url(settings, url)
    if not isinstance(event_types, _Unset):
        changes["event_types"] = clean_event_types(event_types)
    if not isinstance(description, _Unset):
        changes["description"] = _description(description)
    async with in_transaction():
        if changes:
            await WebhookEndpoint.filter(id=endpoint.id).update(**changes)
        if disabled is True:
            await disable_endpoint(endpoint.id, WebhookDisabledReason.MANUAL, now())
        elif disabled is False:
            await WebhookEndpoint.filter(id=endpoint.id).update(
                disabled_at=None, disabled_reason=None, failing_since=None
            )
    await endpoint.refresh_from_db()
    return endpoint


async def disable_endpoint(endpoint_id: str, reason: WebhookDisabledReason, at: datetime) -> bool:
    """True for the one caller that turned it off; its waiting deliveries are cancelled."""
    won = await WebhookEndpoint.filter(id=endpoint_id, disabled_at__isnull=True).update(
        disabled_at=at, disabled_reason=reason
    )
    if won:
        await WebhookDelivery.filter(
            endpoint_id=endpoint_id, status=WebhookDeliveryStatus.PENDING
        ).update(status=WebhookDeliveryStatus.CANCELLED, next_attempt_at=None)
    return won == 1


async def delete_endpoint(scope: Scope, endpoint_id: str) -> WebhookEndpoint:
    """Deletes it with its deliveries and attempts; returns it as it was."""
    endpoint = await get_endpoint(scope, endpoint_id)
    await WebhookEndpoint.filter(id=endpoint.id).delete()
    return endpoint


async def rotate_secret(settings: Settings, scope: Scope, endpoint_id: str) -> EndpointWithSecret:
    """A new secret signs from now on; the one it replaces keeps signing alongside it for 24
    hours, so the merchant can switch without losing a delivery. A second rotation within those
    hours drops the oldest secret."""
    box = secret_box(settings.secret_key)
    for _ in range(3):
        endpoint = await get_endpoint(scope, endpoint_id)
        secret = new_secret()
        # Conditional on the secret we read, so two rotations at once cannot both keep theirs.
        won = await WebhookEndpoint.filter(id=endpoint.id, secret=endpoint.secret).update(
            secret=box.seal(secret),
            previous_secret=endpoint.secret,
            previous_secret_expires_at=now() + ROTATION_OVERLAP,
        )
        if won:
            await endpoint.refresh_from_db()
            return EndpointWithSecret(endpoint, secret)
    raise InvalidState("The secret is being rotated by another request; try again.")
