"""Indexes that keep reads flat as the data grows (issue 15).

- Every keyset-paged list has an index in its order: the tenant columns (and the customer),
  then `created_at, id`, so `(created_at, id) < (?, ?)` is a range of that index and the
  ORDER BY needs no sort.
- Every foreign key leads an index (or follows only `business_id, mode`): saved cards by
  customer, subscriptions by card and product, payments by subscription, invoice, card and
  product, an invoice's lines, credit notes, license keys by product, subscription, payment.
- Lookups by other columns: a payment by its processor reference (Stripe's webhooks), the
  refunds left PENDING (their sweep).
  tests/services/test_query_plans_sql.py checks the rule on PostgreSQL's catalog.
"""

from typing import Any

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# (model, (old index fields, its name) or None, new index fields)
_CHANGES: list[tuple[str, tuple[list[str], str] | None, list[str]]] = [
    ("PaymentMethod", (["business_id", "mode", "customer_id", "created_at"], "idx_payment_met_busines_60c48d"), ["customer_id", "created_at", "id"]),
    ("Subscription", (["business_id", "mode", "customer_id", "created_at"], "idx_subscriptio_busines_d86444"), ["business_id", "mode", "customer_id", "created_at", "id"]),
    ("Subscription", (["business_id", "mode", "created_at"], "idx_subscriptio_busines_aad4e8"), ["business_id", "mode", "created_at", "id"]),
    ("Subscription", None, ["payment_method_id", "status"]),
    ("Subscription", None, ["product_id"]),
    ("Invoice", (["business_id", "mode", "customer_id", "created_at"], "idx_invoice_busines_c8690e"), ["business_id", "mode", "customer_id", "created_at", "id"]),
    ("Invoice", (["business_id", "mode", "created_at"], "idx_invoice_busines_dd428a"), ["business_id", "mode", "created_at", "id"]),
    ("Invoice", None, ["credit_note_for_id"]),
    ("InvoiceLine", None, ["invoice_id"]),
    ("Payment", (["business_id", "mode", "customer_id", "created_at"], "idx_payment_busines_bb1f02"), ["business_id", "mode", "customer_id", "created_at", "id"]),
    ("Payment", (["business_id", "mode", "created_at"], "idx_payment_busines_bb7d02"), ["business_id", "mode", "created_at", "id"]),
    ("Payment", None, ["subscription_id"]),
    ("Payment", None, ["invoice_id"]),
    ("Payment", None, ["payment_method_id"]),
    ("Payment", None, ["product_id"]),
    ("Payment", None, ["business_id", "mode", "gateway_reference"]),
    ("Refund", None, ["credit_note_id"]),
    ("Refund", None, ["status", "created_at"]),
    ("LicenseKey", (["business_id", "mode", "customer_id", "created_at"], "idx_license_key_busines_b1a5a2"), ["business_id", "mode", "customer_id", "created_at", "id"]),
    ("LicenseKey", (["business_id", "mode", "created_at"], "idx_license_key_busines_f3d575"), ["business_id", "mode", "created_at", "id"]),
    ("LicenseKey", None, ["product_id"]),
    ("LicenseKey", None, ["subscription_id"]),
    ("LicenseKey", None, ["payment_id"]),
    ("LicenseKeyInstance", (["license_key_id", "created_at"], "idx_license_key_license_de520d"), ["license_key_id", "created_at", "id"]),
    ("Customer", (["business_id", "mode", "created_at"], "idx_customer_busines_3087af"), ["business_id", "mode", "created_at", "id"]),
    ("Product", (["business_id", "mode", "created_at"], "idx_product_busines_829128"), ["business_id", "mode", "created_at", "id"]),
    ("WebhookEndpoint", (["business_id", "mode", "created_at"], "idx_webhook_end_busines_e517ad"), ["business_id", "mode", "created_at", "id"]),
    ("WebhookEvent", (["business_id", "mode", "created_at"], "idx_webhook_eve_busines_3af069"), ["business_id", "mode", "created_at", "id"]),
    ("WebhookAttempt", (["event_id", "created_at"], "idx_webhook_att_event_i_5de522"), ["event_id", "created_at", "id"]),
    ("WebhookAttempt", (["endpoint_id", "created_at"], "idx_webhook_att_endpoin_a2c856"), ["endpoint_id", "created_at", "id"]),
    ("WebhookAttempt", None, ["delivery_id"]),
    ("GatewayEvent", None, ["business_id", "mode", "received_at"]),
]

_LOST_ON_SQLITE = [
    ("idx_payment_status_0aeffa", "payment", '"status", "created_at"'),
    ("idx_outbox_mess_status_4d04e0", "outbox_message", '"status", "next_attempt_at"'),
    ("idx_outbox_mess_busines_bef82c", "outbox_message", '"business_id", "mode", "created_at"'),
]


class DropIndexIfPresent(ops.RemoveIndex):
    """RemoveIndex that drops the index by name only if it is there: on SQLite, 0003 rebuilt
    the payment table without its indexes (they are made here again)."""

    def __init__(self, model_name: str, fields: list[str], index_name: str) -> None:
        super().__init__(model_name, fields=fields)
        self.index_name = index_name

    async def database_forward(
        self,
        app_label: str,
        old_state: Any,
        new_state: Any,
        state_editor: Any = None,
    ) -> None:
        drop = ops.RunSQL(f'DROP INDEX IF EXISTS "{self.index_name}"')
        await drop.database_forward(app_label, old_state, new_state, state_editor)


def _operations() -> list[ops.Operation]:
    found: list[ops.Operation] = []
    for model, old, new in _CHANGES:
        # The new index first: the list is never without one while the old one goes.
        found.append(ops.AddIndex(model_name=model, index=Index(fields=new)))
        if old is not None:
            fields, name = old
            found.append(DropIndexIfPresent(model, fields, name))
    # Indexes the models declare that SQLite lost when 0003 and 0004 rebuilt their tables
    # (PostgreSQL has them: IF NOT EXISTS leaves those alone).
    for name, table, columns in _LOST_ON_SQLITE:
        found.append(ops.RunSQL(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})'))
    return found


class Migration(migrations.Migration):
    dependencies = [("models", "0010_job_leases")]

    initial = False

    operations = _operations()
