"""Webhooks, for the merchant's API key only: endpoints, the event log, redelivery."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from resolvers.context import Context
from services.pagination import Page
from services.sql import Row
from services.webhooks import endpoints, history
from services.webhooks.endpoints import UNSET, EndpointWithSecret
from services.webhooks.event_types import EVENT_TYPES


@dataclass
class WebhookLoaders:
    endpoint: DataLoader[str, WebhookEndpoint | None]
    deliveries_of: DataLoader[str, list[WebhookDelivery]]


def loaders(ctx: Context) -> WebhookLoaders:
    """Per-request loaders for the webhook types, kept on the request's context (the shared
    `Loaders` are not this area's to extend). They load within the merchant's scope."""
    found = ctx.__dict__.get("_webhook_loaders")
    if isinstance(found, WebhookLoaders):
        return found
    scope = ctx.merchant_scope()

    async def load_endpoints(ids: list[str]) -> list[WebhookEndpoint | None]:
        rows = await history.endpoints_by_id(scope, ids)
        return [rows.get(i) for i in ids]

    async def load_deliveries(event_ids: list[str]) -> list[list[WebhookDelivery]]:
        grouped = await history.deliveries_of(scope, event_ids)
        return [grouped.get(i, []) for i in event_ids]

    made = WebhookLoaders(
        endpoint=DataLoader(load_fn=load_endpoints),
        deliveries_of=DataLoader(load_fn=load_deliveries),
    )
    ctx.__dict__["_webhook_loaders"] = made
    return made


# Endpoints


async def endpoint(ctx: Context, endpoint_id: str) -> WebhookEndpoint:
    return await endpoints.get_endpoint(ctx.merchant_scope(), endpoint_id)


async def list_endpoints(ctx: Context, first: int | None, after: str | None) -> Page[Row]:
    return await endpoints.list_endpoints(ctx.merchant_scope(), first, after)


async def create_endpoint(
    ctx: Context, *, url: str, event_types: list[str] | None, description: str | None
) -> EndpointWithSecret:
    return await endpoints.create_endpoint(
        ctx.settings,
        ctx.merchant_scope(),
        url=url,
        event_types=event_types,
        description=description,
    )


async def update_endpoint(
    ctx: Context, endpoint_id: str, changes: dict[str, object], disabled: bool | None
) -> WebhookEndpoint:
    return await endpoints.update_endpoint(
        ctx.settings,
        ctx.merchant_scope(),
        endpoint_id,
        url=changes.get("url", UNSET),  # type: ignore[arg-type]
        event_types=changes.get("event_types", UNSET),  # type: ignore[arg-type]
        description=changes.get("description", UNSET),  # type: ignore[arg-type]
        disabled=disabled,
    )


async def delete_endpoint(ctx: Context, endpoint_id: str) -> WebhookEndpoint:
    return await endpoints.delete_endpoint(ctx.merchant_scope(), endpoint_id)


async def rotate_secret(ctx: Context, endpoint_id: str) -> EndpointWithSecret:
    return await endpoints.rotate_secret(ctx.settings, ctx.merchant_scope(), endpoint_id)


# Events and attempts


async def event(ctx: Context, event_id: str) -> WebhookEvent:
    return await history.get_event(ctx.merchant_scope(), event_id)


async def list_events(
    ctx: Context,
    first: int | None,
    after: str | None,
    *,
    endpoint_id: str | None,
    event_types: list[str] | None,
) -> Page[Row]:
    return await history.list_events(
        ctx.merchant_scope(), first, after, endpoint_id=endpoint_id, event_types=event_types
    )


async def list_attempts(
    ctx: Context, event_id: str, first: int | None, after: str | None, endpoint_id: str | None
) -> Page[Row]:
    return await history.list_attempts(
        ctx.merchant_scope(), event_id, first, after, endpoint_id=endpoint_id
    )


async def redeliver_event(
    ctx: Context, event_id: str, endpoint_id: str | None
) -> tuple[WebhookEvent, list[WebhookDelivery]]:
    return await history.redeliver_event(ctx.merchant_scope(), event_id, endpoint_id)


def event_types() -> list[str]:
    """The event types an endpoint can subscribe to."""
    return list(EVENT_TYPES)
