"""services/sql: the hand-written reads. Statements issued together each get their own rows
(on SQLite they share one trip to the connection's thread), a failing statement fails only its
caller, reads inside a transaction see that transaction's writes, and every statement is logged
where the statement counts look for it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from models import Customer, Mode
from services import sql
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


async def test_statements_issued_together_each_get_their_rows(database_url: str) -> None:
    _, ids = await _customers(5)
    one = "SELECT id, email FROM customer WHERE id = ?"
    results = await asyncio.gather(
        *(sql.select(Customer, one, [customer_id]) for customer_id in ids),
        sql.select_tuples(Customer, "SELECT id FROM customer WHERE id IN (?, ?)", ids[:2]),
        sql.rows_by_id(Customer, ("id", "email"), [ids[3], "cus_missing", ids[0]]),
    )
    for customer_id, rows in zip(ids, results[:5], strict=True):
        assert [row["id"] for row in rows] == [customer_id]
        assert rows[0]["email"].endswith("@rows.example")
    assert sorted(row[0] for row in results[5]) == sorted(ids[:2])
    by_id = results[6]
    assert by_id[0] is not None and by_id[0]["id"] == ids[3]
    assert by_id[1] is None
    assert by_id[2] is not None and by_id[2]["id"] == ids[0]


async def test_a_failing_statement_fails_only_its_caller(database_url: str) -> None:
    _, ids = await _customers(1)
    good, bad = await asyncio.gather(
        sql.select(Customer, "SELECT id FROM customer WHERE id = ?", [ids[0]]),
        sql.select(Customer, "SELECT no_such_column FROM customer"),
        return_exceptions=True,
    )
    assert good == [{"id": ids[0]}]
    assert isinstance(bad, Exception)
    if "sqlite" in database_url:
        assert isinstance(bad, OperationalError)
        assert "no_such_column" in str(bad)
    # A value the driver cannot bind fails its own statement only, in the same batch too.
    good, unbindable = await asyncio.gather(
        sql.select(Customer, "SELECT id FROM customer WHERE id = ?", [ids[0]]),
        sql.select(Customer, "SELECT id FROM customer WHERE id = ?", [2**70]),
        return_exceptions=True,
    )
    assert good == [{"id": ids[0]}]
    assert isinstance(unbindable, Exception)
    # The connection still works afterwards.
    assert await sql.select(Customer, "SELECT COUNT(*) AS n FROM customer") == [{"n": 1}]


async def test_reads_inside_a_transaction_see_its_writes(database_url: str) -> None:
    _, ids = await _customers(1)
    async with in_transaction():
        await Customer.filter(id=ids[0]).update(name="Renamed in the transaction")
        [row] = await sql.select(Customer, "SELECT name FROM customer WHERE id = ?", [ids[0]])
        assert row["name"] == "Renamed in the transaction"
    [row] = await sql.select(Customer, "SELECT name FROM customer WHERE id = ?", [ids[0]])
    assert row["name"] == "Renamed in the transaction"


async def test_every_statement_is_logged_for_the_statement_counts(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, ids = await _customers(3)
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        caplog.clear()
        await asyncio.gather(
            *(sql.select(Customer, "SELECT id FROM customer WHERE id = ?", [i]) for i in ids)
        )
    logged = [r for r in caplog.records if "SELECT id FROM customer WHERE id =" in str(r.args)]
    assert len(logged) == 3


def test_timestamps_come_back_as_aware_utc() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    sqlite_text = sql.as_datetime("2026-11-25 17:12:11.123456+00:00")
    assert sqlite_text == datetime(2026, 11, 25, 17, 12, 11, 123456, tzinfo=UTC)
    assert sql.as_datetime("2026-11-25 17:12:11+00:00") == datetime(
        2026, 11, 25, 17, 12, 11, tzinfo=UTC
    )
    berlin = datetime(2026, 11, 25, 18, 0, tzinfo=timezone(timedelta(hours=1)))
    assert sql.as_datetime(berlin) == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    assert sql.as_datetime(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert sql.as_datetime(None) is None
