"""A model instance as the typed row the schema's views read (the shape the read path gives),
for objects that come out of a mutation rather than a list."""

from __future__ import annotations

from tortoise.models import Model

from models import (
    Customer,
    Invoice,
    LicenseKey,
    Payment,
    PaymentMethod,
    Product,
    Subscription,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from services.billing.columns import shown
from services.customers import CUSTOMER_COLUMNS
from services.licensing import LICENSE_KEY_COLUMNS
from services.sql import Row, row_of
from services.webhooks.endpoints import ENDPOINT_COLUMNS
from services.webhooks.history import ATTEMPT_COLUMNS, EVENT_COLUMNS

COLUMNS: dict[type[Model], tuple[str, ...]] = {
    Product: shown(Product),
    PaymentMethod: shown(PaymentMethod),
    Subscription: shown(Subscription),
    Invoice: shown(Invoice),
    Payment: shown(Payment),
    Customer: CUSTOMER_COLUMNS,
    LicenseKey: LICENSE_KEY_COLUMNS,
    WebhookEndpoint: ENDPOINT_COLUMNS,
    WebhookEvent: EVENT_COLUMNS,
    WebhookAttempt: ATTEMPT_COLUMNS,
}


def as_row(instance: Model) -> Row:
    return row_of(instance, COLUMNS[type(instance)])
