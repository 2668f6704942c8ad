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
    JobLease,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    TrustedDocument,
)
from models.licensing import LicenseKey, LicenseKeyInstance, LicenseKeyStatus
from models.payments import CardSetup, GatewayEvent, GatewayProvider, PaymentGatewayConfig
from models.plans import PlanChange, PlanChangeKind, PlanChangeStatus, PlanFamily
from models.portal_settings import CustomerCancellation, PortalSettings
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
    "models.portal_settings",
    "models.plans",
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
    "CustomerCancellation",
    "GatewayEvent",
    "GatewayProvider",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceCounter",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceStatus",
    "JobLease",
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
    "PlanChange",
    "PlanChangeKind",
    "PlanChangeStatus",
    "PlanFamily",
    "PortalSession",
    "PortalSettings",
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
