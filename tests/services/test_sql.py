"""services/sql: the hand-written reads. Rows come back typed as the models declare their fields
(on SQLite timestamps are text and booleans 0/1 underneath), in the order asked, reads inside
a transaction see that transaction's writes, and every statement is logged where the
statement counts look for it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from tortoise.transactions import in_transaction

from models import Customer, Mode, Product, WebhookEndpoint
from services import sql
from services.billing.products import create_product
from services.businesses import create_business
from services.customers import create_customer
from services.scope import Scope


async def _customers(count: int) -> tuple[Scope, list[str]]:
    business = (await create_business("Rows GmbH", "billing@rows.example")).business
    scope = Scope(business.id, Mode.TEST)
    ids = [
        (await create_customer(scope, email=f"c{n}@rows.example", name=f"C {n}")).id
        for n in range(count)
    ]
    return scope, ids


async def test_rows_by_id_in_the_order_asked_with_none_for_the_missing(
    database_url: str,
) -> None:
    _, ids = await _customers(3)
    rows = await sql.rows_by_id(Customer, ("id", "email"), [ids[2], "cus_missing", ids[0]])
    assert [row and row["email"] for row in rows] == [
        "c2@rows.example",
        None,
        "c0@rows.example",
    ]
    assert await sql.rows_by_id(Customer, ("id",), []) == []


async def test_values_come_back_typed_as_the_models_declare_them(database_url: str) -> None:
    scope, _ = await _customers(1)
    product = await create_product(
        scope,
        name="Typed",
        description=None,
        price_amount=990,
        currency="EUR",
        interval=None,
        interval_count=None,
        license_key_enabled=True,
        license_key_activations_limit=None,
        license_key_duration_days=None,
    )
    await WebhookEndpoint.create(
        business_id=scope.business_id,
        mode=scope.mode,
        url="https://typed.example/hooks",
        event_types=["payment.succeeded"],
        secret="sealed",
    )
    [row] = await sql.rows_by_id(
        Product, ("id", "is_recurring", "license_key_enabled", "created_at"), [product.id]
    )
    assert row is not None
    assert row["is_recurring"] is False and row["license_key_enabled"] is True
    assert isinstance(row["created_at"], datetime) and row["created_at"].tzinfo is UTC
    assert abs(row["created_at"] - product.created_at) < timedelta(microseconds=1)
    [endpoint] = await sql.fetch_rows("SELECT event_types FROM webhook_endpoint")
    assert sql.typed(WebhookEndpoint, endpoint)["event_types"] == ["payment.succeeded"]


async def test_reads_inside_a_transaction_see_its_writes(database_url: str) -> None:
    scope, _ = await _customers(0)
    async with in_transaction():
        customer = await create_customer(scope, email="new@rows.example", name="New")
        [row] = await sql.rows_by_id(Customer, ("id", "email"), [customer.id])
        assert row is not None and row["email"] == "new@rows.example"


async def test_every_statement_is_logged_for_the_statement_counts(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, ids = await _customers(2)
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    await sql.rows_by_id(Customer, ("id",), ids)
    await sql.fetch_rows("SELECT COUNT(*) AS n FROM customer")
    logged = [r.getMessage() for r in caplog.records if "FROM customer" in r.getMessage()]
    assert len(logged) == 2


def test_timestamps_come_back_as_aware_utc() -> None:
    assert sql.as_datetime(None) is None
    text = sql.as_datetime("2026-11-25 17:12:11.123456+00:00")
    assert text == datetime(2026, 11, 25, 17, 12, 11, 123456, tzinfo=UTC)
    assert text is not None and text.tzinfo is UTC
    naive = sql.as_datetime(datetime(2026, 1, 1, 12))
    assert naive == datetime(2026, 1, 1, 12, tzinfo=UTC)
    berlin = sql.as_datetime(datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))))
    assert berlin == datetime(2026, 1, 1, 12, tzinfo=UTC) and berlin.tzinfo is UTC
