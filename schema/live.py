"""The subscription root, `Live` (`Subscription` is the billing type): what a client can follow
as it happens, over the `graphql-transport-ws` protocol on /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Annotated

import strawberry
from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from resolvers import live as resolve
from resolvers.context import Context
from resolvers.types import ServiceError
from schema.billing_types import Payment
from schema.permissions import SIGNED_IN


@strawberry.type(
    name="Live",
    description="What can be followed as it happens: a websocket on /graphql speaking "
    "graphql-transport-ws. The credential goes in the connection_init payload as "
    '{"authorization": "Bearer <API key or portal session token>"}, or (for the hosted pages) '
    "the portal_session cookie of the upgrade request from the portal's own origin. Queries and "
    "mutations are answered over HTTP only.",
)
class Live:
    @strawberry.subscription(
        permission_classes=SIGNED_IN,
        description="The payment's customer (portal session) or its business's API key of the "
        "same mode: the payment as it is now, then again each time its status changes, until "
        "a final status (SUCCEEDED, FAILED, CANCELLED), after which the subscription completes; "
        "a payment already final is sent once. Works across server processes (PostgreSQL "
        "LISTEN/NOTIFY, or Redis when PORTAL_REDIS_URL is set). Another customer's or "
        "business's payment is NOT_FOUND, exactly like an id that does not exist.",
    )
    async def payment_updated(
        self,
        info: Info[Context, None],
        payment_id: Annotated[
            strawberry.ID, strawberry.argument(description="The payment to follow (pay_…).")
        ],
    ) -> AsyncGenerator[Payment, None]:
        try:
            async for payment in resolve.payment_updated(info.context, str(payment_id)):
                yield Payment.from_model(payment, info.context)
        except ServiceError as error:
            # The schema's ErrorCodes extension sees a subscription's start, not its events:
            # the code goes with the error here (NOT_FOUND, exactly as a query answers it).
            raise GraphQLError(error.message, extensions={"code": error.code}) from None


class OneTransportEach(SchemaExtension):
    """Subscriptions over the websocket, queries and mutations over HTTP: each where its limits
    live (HTTP has the request timeout, body limit and access log; a websocket has none of
    them, and HTTP has no way to stream events). The other way round is a clear
    BAD_USER_INPUT before anything runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            subscription = context.operation_type == OperationType.SUBSCRIPTION
            over_websocket = bool(getattr(context.context, "over_websocket", False))
            if subscription and not over_websocket:
                context.result = _refused(
                    "Subscriptions are served over a websocket on /graphql "
                    "(graphql-transport-ws), not over HTTP."
                )
            elif over_websocket and not subscription:
                context.result = _refused(
                    "Over the websocket only subscriptions are served; send queries and "
                    "mutations over HTTP (POST /graphql)."
                )
        yield


def _refused(message: str) -> ExecutionResult:
    return ExecutionResult(
        data=None, errors=[GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})]
    )
