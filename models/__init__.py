"""Tortoise models, one module per aggregate; migrations live in models/migrations."""

from models.access import LinkPurpose, LoginLink, PortalSession
from models.base import Mode
from models.billing import (
    CancellationReason,
    CreditNoteCounter,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    Subscription,
    SubscriptionStatus,
)
from models.business import ApiKey, Business
from models.catalog import Product, TaxCategory, TimeInterval
from models.customer import Customer
from models.infra import (
    IdempotencyRecord,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    TrustedDocument,
)
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
    "CreditNoteCounter",
    "Customer",
    "GatewayEvent",
    "GatewayProvider",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceCounter",
    "InvoiceKind",
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
    "Refund",
    "RefundStatus",
    "Subscription",
    "SubscriptionStatus",
    "TaxCategory",
    "TimeInterval",
    "TrustedDocument",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookEvent",
]
