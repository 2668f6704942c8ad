"""Tortoise models, one module per aggregate; migrations live in models/migrations."""

from models.access import LinkPurpose, LoginLink, PortalSession
from models.base import Mode
from models.billing import (
    CancellationReason,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from models.business import ApiKey, Business
from models.catalog import Product, TimeInterval
from models.customer import Customer
from models.infra import IdempotencyRecord, OutboxKind, OutboxMessage, OutboxStatus
from models.licensing import LicenseKey, LicenseKeyInstance, LicenseKeyStatus
from models.payments import CardSetup, GatewayEvent, GatewayProvider, PaymentGatewayConfig
from models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookEvent

MODEL_MODULES = [
    "models.access",
    "models.billing",
    "models.business",
    "models.catalog",
    "models.customer",
    "models.infra",
    "models.licensing",
    "models.payments",
    "models.webhooks",
]

__all__ = [
    "MODEL_MODULES",
    "ApiKey",
    "Business",
    "CancellationReason",
    "CardSetup",
    "Customer",
    "GatewayEvent",
    "GatewayProvider",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "InvoiceStatus",
    "LicenseKey",
    "LicenseKeyInstance",
    "LicenseKeyStatus",
    "LinkPurpose",
    "LoginLink",
    "Mode",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "Payment",
    "PaymentGatewayConfig",
    "PaymentMethod",
    "PaymentStatus",
    "PortalSession",
    "Product",
    "Subscription",
    "SubscriptionStatus",
    "TimeInterval",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookEvent",
]
