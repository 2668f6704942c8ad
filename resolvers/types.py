"""What resolvers hand to the schema besides models: pages of typed rows, the results of
billing operations, the errors that become userErrors, a business's look. The schema takes these
names from here, never from services."""

from __future__ import annotations

from services.billing.charging import BillingResult
from services.business_settings import Branding
from services.errors import ServiceError
from services.pagination import COUNT_CAP, Page
from services.payments.gateway_config import GatewayInfo
from services.portal_settings import PortalSettingsValues
from services.sql import Row
from services.webhooks.endpoints import EndpointWithSecret

# Failures that stop the whole operation (a GraphQL error); every other ServiceError of a
# mutation is data in its payload's userErrors.
REQUEST_LEVEL_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED"})

__all__ = [
    "COUNT_CAP",
    "REQUEST_LEVEL_CODES",
    "BillingResult",
    "Branding",
    "EndpointWithSecret",
    "GatewayInfo",
    "Page",
    "PortalSettingsValues",
    "Row",
    "ServiceError",
]
