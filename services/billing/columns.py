"""The columns that billing reads for people need, per table: what the views show and the keys
that tie objects together. Reads into rows (services/sql.py) select these rather than every
column: fewer values to fetch and convert, and internal columns (gateway tokens, claim marks)
never leave the database on a read path."""

from __future__ import annotations

from tortoise.models import Model

from models import Invoice, LicenseKey, Payment, PaymentMethod, Product, Subscription

SHOWN: dict[type[Model], tuple[str, ...]] = {
    Product: (
        "id",
        "name",
        "description",
        "price_amount",
        "currency",
        "is_recurring",
        "interval",
        "interval_count",
        "license_key_enabled",
        "license_key_activations_limit",
        "license_key_duration_days",
        "tax_category",
        "created_at",
    ),
    PaymentMethod: ("id", "customer_id", "brand", "last4", "exp_month", "exp_year", "created_at"),
    Subscription: (
        "id",
        "customer_id",
        "product_id",
        "payment_method_id",
        "status",
        "price_amount",
        "currency",
        "interval",
        "interval_count",
        "current_period_start",
        "next_billing_date",
        "cancel_at_next_billing_date",
        "cancelled_at",
        "cancellation_reason",
        "cancellation_comment",
        "paused_at",
        "pause_at_next_billing_date",
        "resume_at",
        "created_at",
    ),
    Invoice: (
        "id",
        "customer_id",
        "subscription_id",
        "number",
        "status",
        "currency",
        "total_amount",
        "amount_due",
        "period_start",
        "period_end",
        "issued_at",
        "paid_at",
        "kind",
        "credit_note_for_id",
        "net_amount",
        "tax_amount",
        "tax_breakdown",
        "notes",
        "created_at",
    ),
    # What a license key's view shows and needs (its status follows its subscription).
    LicenseKey: (
        "id",
        "key",
        "disabled",
        "activations_limit",
        "instances_count",
        "expires_at",
        "created_at",
        "customer_id",
        "product_id",
        "subscription_id",
    ),
    Payment: (
        "id",
        "customer_id",
        "subscription_id",
        "invoice_id",
        "payment_method_id",
        "product_id",
        "status",
        "amount",
        "currency",
        "card_brand",
        "card_last4",
        "failure_code",
        "failure_message",
        "refunded_amount",
        "created_at",
    ),
}


def shown(model: type[Model]) -> tuple[str, ...]:
    return SHOWN[model]
