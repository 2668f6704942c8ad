"""Webhooks, for merchants: endpoints (with their secret shown once), the event log with every
delivery attempt, secret rotation and redelivery."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models import webhooks as models
from resolvers import webhooks as resolve
from resolvers.context import Context
from resolvers.rows import as_row
from resolvers.types import Row
from schema.errors import UserError, payload
from schema.merchant import given
from schema.permissions import MERCHANT
from schema.types import Connection, Node, connection

strawberry.enum(
    models.WebhookDeliveryStatus,
    description="Where one event stands with one endpoint. PENDING: waiting for its next "
    "attempt. SUCCEEDED: the endpoint answered 2xx. FAILED: every scheduled attempt failed, or "
    "the endpoint answered 410 Gone. CANCELLED: the endpoint was disabled before it got through.",
)
WebhookDeliveryStatus = models.WebhookDeliveryStatus
strawberry.enum(
    models.WebhookDisabledReason,
    description="MANUAL: by the merchant; GONE: it answered 410; FAILING: it failed for days.",
)
WebhookDisabledReason = models.WebhookDisabledReason


@strawberry.type(description="A URL of the merchant's that receives signed events.")
class WebhookEndpoint(Node):
    url: str = strawberry.field(description="Where events are POSTed.")
    description: str | None = strawberry.field(description="The merchant's note about it.")
    event_types: list[str] | None = strawberry.field(
        description="The event types it receives; null: every type."
    )
    disabled: bool = strawberry.field(description="True while it receives nothing.")
    disabled_at: datetime | None = strawberry.field(
        description="When it was disabled; null while enabled. ISO 8601, UTC."
    )
    disabled_reason: WebhookDisabledReason | None = strawberry.field(
        description="Why it was disabled; null while enabled."
    )
    failing_since: datetime | None = strawberry.field(
        description="Since when every attempt has failed; it is disabled after three days."
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="After a rotation, the replaced secret also signs until then."
    )
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")

    @classmethod
    def from_row(cls, row: Row) -> WebhookEndpoint:
        event_types = row["event_types"]
        reason = row["disabled_reason"]
        return cls(
            id=strawberry.ID(row["id"]),
            url=row["url"],
            description=row["description"],
            event_types=list(event_types) if event_types is not None else None,
            disabled=row["disabled_at"] is not None,
            disabled_at=row["disabled_at"],
            disabled_reason=models.WebhookDisabledReason(reason) if reason else None,
            failing_since=row["failing_since"],
            previous_secret_expires_at=row["previous_secret_expires_at"],
            created_at=row["created_at"],
        )

    @classmethod
    def from_model(cls, instance: models.WebhookEndpoint) -> WebhookEndpoint:
        return cls.from_row(as_row(instance))


async def _endpoint(info: Info[Context, None], endpoint_id: str) -> WebhookEndpoint:
    row = await resolve.loaders(info.context).endpoint.load(endpoint_id)
    assert row is not None  # deliveries and attempts go when their endpoint is deleted
    return WebhookEndpoint.from_model(row)


@strawberry.type(description="One HTTP request of a delivery, and what came of it.")
class WebhookAttempt(Node):
    attempt_number: int = strawberry.field(description="1 for the first attempt of a delivery.")
    succeeded: bool = strawberry.field(
        description="True when the endpoint answered 2xx within 15 seconds."
    )
    response_status: int | None = strawberry.field(description="null: no response came.")
    duration_ms: int | None = strawberry.field(
        description="Milliseconds until the answer (or the failure); null when not measured."
    )
    error: str | None = strawberry.field(description="Why it failed, when it did.")
    created_at: datetime = strawberry.field(description="When it was made; ISO 8601, UTC.")
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint's id (whk_…).")

    @classmethod
    def from_row(cls, row: Row) -> WebhookAttempt:
        return cls(
            id=strawberry.ID(row["id"]),
            attempt_number=row["attempt"],
            succeeded=row["succeeded"],
            response_status=row["response_status"],
            duration_ms=row["duration_ms"],
            error=row["error"],
            created_at=row["created_at"],
            endpoint_id=strawberry.ID(row["endpoint_id"]),
        )

    @classmethod
    def from_model(cls, instance: models.WebhookAttempt) -> WebhookAttempt:
        return cls.from_row(as_row(instance))

    @strawberry.field(description="The endpoint it was sent to.")
    async def endpoint(self, info: Info[Context, None]) -> WebhookEndpoint:
        return await _endpoint(info, str(self.endpoint_id))


@strawberry.type(description="One event on its way to one endpoint.")
class WebhookDelivery:
    status: WebhookDeliveryStatus = strawberry.field(description="Where it stands.")
    attempt_count: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next; null once it is no longer PENDING. ISO 8601, UTC."
    )
    last_attempt_at: datetime | None = strawberry.field(
        description="When it was last tried; null before the first attempt. ISO 8601, UTC."
    )
    last_response_status: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null: none yet, or no response came."
    )
    delivered_at: datetime | None = strawberry.field(
        description="When it SUCCEEDED; null otherwise. ISO 8601, UTC."
    )
    created_at: datetime = strawberry.field(
        description="When it was scheduled (a redelivery is a new delivery); ISO 8601, UTC."
    )
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint's id (whk_…).")

    @classmethod
    def from_model(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        return cls(
            status=row.status,
            attempt_count=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_attempt_at=row.last_attempt_at,
            last_response_status=row.last_response_status,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
            endpoint_id=strawberry.ID(row.endpoint_id),
        )

    @strawberry.field(description="The endpoint it goes to.")
    async def endpoint(self, info: Info[Context, None]) -> WebhookEndpoint:
        return await _endpoint(info, str(self.endpoint_id))


@strawberry.type(description="Something that happened, as sent to webhook endpoints.")
class WebhookEvent(Node):
    type: str = strawberry.field(description="Dodo's event name, e.g. payment.succeeded.")
    payload: JSON = strawberry.field(
        description="The body sent: { business_id, type, timestamp, data }."
    )
    created_at: datetime = strawberry.field(description="When it happened; ISO 8601, UTC.")

    @classmethod
    def from_row(cls, row: Row) -> WebhookEvent:
        return cls(
            id=strawberry.ID(row["id"]),
            type=row["type"],
            payload=row["payload"],
            created_at=row["created_at"],
        )

    @classmethod
    def from_model(cls, instance: models.WebhookEvent) -> WebhookEvent:
        return cls.from_row(as_row(instance))

    @strawberry.field(description="One per endpoint it went to (and per redelivery), newest first.")
    async def deliveries(self, info: Info[Context, None]) -> list[WebhookDelivery]:
        rows = await resolve.loaders(info.context).deliveries_of.load(str(self.id))
        return [WebhookDelivery.from_model(row) for row in rows]

    @strawberry.field(description="Every attempt to deliver it, newest first.")
    async def attempts(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
        endpoint_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only to this endpoint.")
        ] = None,
    ) -> Connection[WebhookAttempt]:
        page = await resolve.list_attempts(
            info.context, str(self.id), first, after, str(endpoint_id) if endpoint_id else None
        )
        return connection(page, [WebhookAttempt.from_row(row) for row in page.rows])


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="https (http only outside production).")
    event_types: list[str] | None = strawberry.field(
        default=None, description="Omitted or null: every event type."
    )
    description: str | None = strawberry.field(
        default=None, description="A note for the merchant, at most 500 characters."
    )


@strawberry.type(description="The result of createWebhookEndpoint.")
class CreateWebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(
        description="The new endpoint; null on failure."
    )
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…). Shown only here; store it now."
    )
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_URL, INVALID_EVENT_TYPE, TOO_LONG (description), LIMIT_REACHED "
        "(too many endpoints in this mode)."
    )


@strawberry.input(description="Changes to a webhook endpoint; omitted fields stay as they are.")
class UpdateWebhookEndpointInput:
    webhook_endpoint_id: strawberry.ID = strawberry.field(
        description="The endpoint to change (whk_…)."
    )
    url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="https (http only outside production); null leaves it as it is.",
    )
    event_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="null: every event type."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 500 characters; null removes it."
    )
    disabled: bool | None = strawberry.field(
        default=None, description="true turns it off; false on again, forgetting past failures."
    )


@strawberry.type(description="The result of updateWebhookEndpoint.")
class UpdateWebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND, INVALID_URL, INVALID_EVENT_TYPE, TOO_LONG (description)."
    )


@strawberry.input(description="The webhook endpoint to delete.")
class DeleteWebhookEndpointInput:
    webhook_endpoint_id: strawberry.ID = strawberry.field(description="Its id (whk_…).")


@strawberry.type(description="The result of deleteWebhookEndpoint.")
class DeleteWebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint as it was before it was deleted."
    )
    user_errors: list[UserError] = strawberry.field(description="NOT_FOUND.")


@strawberry.input(description="The webhook endpoint whose signing secret to replace.")
class RotateWebhookSecretInput:
    webhook_endpoint_id: strawberry.ID = strawberry.field(description="Its id (whk_…).")


@strawberry.type(description="The result of rotateWebhookSecret.")
class RotateWebhookSecretPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint as it is now; null on failure."
    )
    secret: str | None = strawberry.field(
        description="The new secret, shown only here. The old one signs too for 24 hours."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND; INVALID_STATE while another rotation of it is under way."
    )


@strawberry.input(description="An event to send again.")
class RedeliverEventInput:
    event_id: strawberry.ID = strawberry.field(description="The event (evt_…).")
    webhook_endpoint_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only to this endpoint; omitted: every enabled endpoint that wants it.",
    )


@strawberry.type(description="The result of redeliverEvent.")
class RedeliverEventPayload:
    webhook_event: WebhookEvent | None = strawberry.field(description="The event; null on failure.")
    deliveries: list[WebhookDelivery] = strawberry.field(description="Those scheduled now.")
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (event or endpoint); INVALID_STATE when the endpoint is disabled "
        "or no enabled endpoint receives the event's type."
    )


@strawberry.type
class WebhooksQuery:
    @strawberry.field(
        permission_classes=MERCHANT, description="Merchant: webhook endpoints, newest first."
    )
    async def webhook_endpoints(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
    ) -> Connection[WebhookEndpoint]:
        page = await resolve.list_endpoints(info.context, first, after)
        return connection(page, [WebhookEndpoint.from_row(row) for row in page.rows])

    @strawberry.field(permission_classes=MERCHANT, description="Merchant: one webhook endpoint.")
    async def webhook_endpoint(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="Its id (whk_…).")],
    ) -> WebhookEndpoint:
        return WebhookEndpoint.from_model(await resolve.endpoint(info.context, str(id)))

    @strawberry.field(
        permission_classes=MERCHANT,
        description="Merchant: events, newest first, optionally filtered.",
    )
    async def webhook_events(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
        endpoint_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only events sent (or being sent) to this endpoint."),
        ] = None,
        event_types: Annotated[
            list[str] | None, strawberry.argument(description="Only events of these types.")
        ] = None,
    ) -> Connection[WebhookEvent]:
        page = await resolve.list_events(
            info.context,
            first,
            after,
            endpoint_id=str(endpoint_id) if endpoint_id else None,
            event_types=event_types,
        )
        return connection(page, [WebhookEvent.from_row(row) for row in page.rows])

    @strawberry.field(permission_classes=MERCHANT, description="Merchant: one event.")
    async def webhook_event(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="Its id (evt_…).")],
    ) -> WebhookEvent:
        return WebhookEvent.from_model(await resolve.event(info.context, str(id)))

    @strawberry.field(
        description="Public: the event types an endpoint can subscribe to, e.g. payment.succeeded."
    )
    def webhook_event_types(self) -> list[str]:
        return resolve.event_types()


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: adds an endpoint for the key's mode; its secret is shown only "
        "here. userErrors: INVALID_URL, INVALID_EVENT_TYPE, TOO_LONG, LIMIT_REACHED.",
    )
    async def create_webhook_endpoint(
        self,
        info: Info[Context, None],
        input: Annotated[
            CreateWebhookEndpointInput, strawberry.argument(description="The endpoint to add.")
        ],
    ) -> CreateWebhookEndpointPayload:
        return await payload(
            info,
            CreateWebhookEndpointPayload,
            lambda: resolve.create_endpoint(
                info.context,
                url=input.url,
                event_types=input.event_types,
                description=input.description,
            ),
            webhook_endpoint=lambda made: WebhookEndpoint.from_model(made.endpoint),
            secret=lambda made: made.secret,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: changes an endpoint, or turns it off or on. userErrors: "
        "NOT_FOUND, INVALID_URL, INVALID_EVENT_TYPE, TOO_LONG.",
    )
    async def update_webhook_endpoint(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateWebhookEndpointInput,
            strawberry.argument(description="The endpoint and the changes."),
        ],
    ) -> UpdateWebhookEndpointPayload:
        changes = given(input, "url", "event_types", "description")
        if changes.get("url", "") is None:
            del changes["url"]  # an endpoint always has a URL: null leaves it as it is
        return await payload(
            info,
            UpdateWebhookEndpointPayload,
            lambda: resolve.update_endpoint(
                info.context, str(input.webhook_endpoint_id), changes, input.disabled
            ),
            webhook_endpoint=WebhookEndpoint.from_model,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: deletes an endpoint with its delivery log. userErrors: NOT_FOUND.",
    )
    async def delete_webhook_endpoint(
        self,
        info: Info[Context, None],
        input: Annotated[
            DeleteWebhookEndpointInput, strawberry.argument(description="The endpoint to delete.")
        ],
    ) -> DeleteWebhookEndpointPayload:
        return await payload(
            info,
            DeleteWebhookEndpointPayload,
            lambda: resolve.delete_endpoint(info.context, str(input.webhook_endpoint_id)),
            webhook_endpoint=WebhookEndpoint.from_model,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: a new signing secret; the old one keeps signing for 24 hours. "
        "userErrors: NOT_FOUND, INVALID_STATE.",
    )
    async def rotate_webhook_secret(
        self,
        info: Info[Context, None],
        input: Annotated[
            RotateWebhookSecretInput, strawberry.argument(description="The endpoint.")
        ],
    ) -> RotateWebhookSecretPayload:
        return await payload(
            info,
            RotateWebhookSecretPayload,
            lambda: resolve.rotate_secret(info.context, str(input.webhook_endpoint_id)),
            webhook_endpoint=lambda made: WebhookEndpoint.from_model(made.endpoint),
            secret=lambda made: made.secret,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: sends an event again, starting now, as a new delivery. "
        "userErrors: NOT_FOUND, INVALID_STATE.",
    )
    async def redeliver_event(
        self,
        info: Info[Context, None],
        input: Annotated[
            RedeliverEventInput,
            strawberry.argument(description="The event, and optionally one endpoint."),
        ],
    ) -> RedeliverEventPayload:
        endpoint_id = str(input.webhook_endpoint_id) if input.webhook_endpoint_id else None
        return await payload(
            info,
            RedeliverEventPayload,
            lambda: resolve.redeliver_event(info.context, str(input.event_id), endpoint_id),
            failed={"deliveries": []},
            webhook_event=lambda result: WebhookEvent.from_model(result[0]),
            deliveries=lambda result: [WebhookDelivery.from_model(row) for row in result[1]],
        )
