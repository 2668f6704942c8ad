"""The GraphQL surface. `schema` is what the app serves and `schema.graphql` is printed from."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig

from schema.access import AccessMutation
from schema.billing import BillingMutation, BillingQuery
from schema.billing_types import Invoice, Payment, PaymentMethod, Product, Subscription
from schema.business_settings import BusinessSettingsMutation, BusinessSettingsQuery
from schema.customer import Customer
from schema.extensions import is_token_limit, is_unexpected, schema_extensions
from schema.invoicing import InvoicingMutation
from schema.licensing import LicenseKey, LicenseKeyInstance, LicensingMutation, LicensingQuery
from schema.live import Live
from schema.merchant import MerchantMutation, MerchantQuery
from schema.messages import safe_message
from schema.nodes import NodeQuery
from schema.payments import PaymentsMutation
from schema.plans import PlansMutation, PlansQuery
from schema.portal import PortalMutation, PortalQuery
from schema.portal_settings import PortalSettingsMutation
from schema.types import Business
from schema.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhooksMutation,
    WebhooksQuery,
)


@strawberry.type(
    description="What can be read. Each field says who may call it: a merchant API key "
    "(Authorization: Bearer sk_test_…/sk_live_…, whose mode it sees), a customer's portal "
    "session, or anyone."
)
class Query(
    MerchantQuery,
    PortalQuery,
    BillingQuery,
    LicensingQuery,
    WebhooksQuery,
    BusinessSettingsQuery,
    PlansQuery,
    NodeQuery,
):
    pass


@strawberry.type(
    description="What can be changed. A mutation takes input: <Name>Input (signOut and "
    "runBillingCycle take none) and answers <Name>Payload; expected failures come as its "
    "userErrors with a stable code, while a missing credential, a rate limit or a bad query is "
    "a GraphQL error with extensions.code."
)
class Mutation(
    AccessMutation,
    MerchantMutation,
    PortalMutation,
    BillingMutation,
    PaymentsMutation,
    InvoicingMutation,
    LicensingMutation,
    WebhooksMutation,
    BusinessSettingsMutation,
    PortalSettingsMutation,
    PlansMutation,
):
    pass


logger = logging.getLogger("portal.graphql")


class PortalSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Logs unexpected failures only. Strawberry's default logs every error with its
        message, and a client's malformed card input would put the card number in the log.
        Over the websocket, where neither the HTTP view nor ErrorCodes sees a refused
        document's errors, each also gets its code here."""
        over_websocket = bool(
            getattr(getattr(execution_context, "context", None), "over_websocket", False)
        )
        for error in errors:
            if over_websocket and error.original_error is None:
                extensions = dict(error.extensions or {})
                if "code" not in extensions:
                    too_complex = is_token_limit(error.message)
                    extensions["code"] = "QUERY_TOO_COMPLEX" if too_complex else "BAD_USER_INPUT"
                    error.extensions = extensions
            if is_unexpected(error):
                original = error.original_error
                assert original is not None
                # The stack, and the exception's message without the client's input (a
                # driver's or validator's message may quote the value that failed).
                logger.error(
                    "unexpected error at %s: %s: %s\n%s",
                    error.path,
                    type(original).__name__,
                    safe_message(str(original))[:200],
                    "".join(traceback.format_tb(original.__traceback__)),
                )


def build_schema(
    introspection: bool = True,
    plans: bool = True,
    observers: Sequence[Any] = (),
    compiled: bool = True,
) -> strawberry.Schema:
    """`observers`: extensions the edge adds to watch operations (app/metrics.py); `plans` and
    `compiled`: see schema/extensions.py."""
    extensions = [
        *schema_extensions(suggestions=introspection, plans=plans, compiled=compiled),
        *observers,
    ]
    if not introspection:
        from strawberry.extensions import DisableIntrospection

        extensions.append(DisableIntrospection)
    built = PortalSchema(
        query=Query,
        mutation=Mutation,
        subscription=Live,
        types=[
            Business,
            Customer,
            Product,
            Subscription,
            Payment,
            Invoice,
            PaymentMethod,
            LicenseKey,
            LicenseKeyInstance,
            WebhookEndpoint,
            WebhookEvent,
            WebhookAttempt,
            WebhookDelivery,
        ],
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
    return built


schema = build_schema()

__all__ = ["build_schema", "schema"]
