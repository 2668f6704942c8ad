"""The hot statements are answered by indexes, at any depth of a list.

The statements are the ones the server really runs: a merchant's customer list (page 1 and
after a cursor), a customer's lists with their counts (page 1, after a cursor, totalCount), the
customer list with every customer's lists, saved cards, and the portal dashboard, recorded
with their parameters where Tortoise logs them. Each SELECT is then explained:

- PostgreSQL: as a prepared statement under a generic plan (what asyncpg's prepared statements
  get after five runs), with `enable_seqscan = off` because a test database has few rows and a
  sequential scan of a few rows is what the planner should choose there. No plan node may be
  a Seq Scan (no index can answer it) or a Sort under a paged read (the order comes from the
  index), and a page after a cursor has its row comparison in an Index Cond, not a Filter.
- SQLite: `EXPLAIN QUERY PLAN` must SEARCH every table (never SCAN one), and a page after a
  cursor searches its index by the row comparison.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from conftest import Portal
from models import Invoice, InvoiceStatus, Mode, Product
from models.clock import now
from scripts.dashboard_data import DASHBOARD, seed_customer, seed_products
from services.businesses import NewBusiness
from services.customers import create_customer
from services.licensing import issue_license_key
from services.pagination import COUNT_CAP
from services.scope import Scope
from support import DB_CLIENT_LOGGER, NOT_STATEMENTS, recorded_statements, session_for

KEYSET = "(t.created_at, t.id) < "
# The ORM's lists (customers, products, webhooks) have no row comparison: their first bound.
ORM_KEYSET = '"created_at"<='


class Recorder(logging.Handler):
    """Every SELECT Tortoise's clients log, with its parameters."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.selects: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(NOT_STATEMENTS):
            return
        args = record.args
        if not (isinstance(args, tuple) and len(args) == 2):
            return
        query, values = str(args[0]), args[1]
        if query.lstrip().upper().startswith("SELECT"):
            self.selects.append((query, list(values or [])))


@contextmanager
def recording() -> Iterator[Recorder]:
    logger = logging.getLogger(DB_CLIENT_LOGGER)
    recorder = Recorder()
    level = logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)


CUSTOMER_PAGE = """query($after: String) { customers(first: 2, after: $after) {
  totalCount edges { cursor node { id } } } }"""

LISTS = """query($id: ID!, $after: String) { customer(id: $id) {
  subscriptions(first: 2, after: $after) { totalCount
    edges { cursor node { id product { name } outstandingAmount { amount } } } }
  invoices(first: 2, after: $after) { totalCount totalCountCapped
    edges { cursor node { id subscription { id } } } }
  payments(first: 2, after: $after) { totalCount edges { cursor node { id invoice { number } } } }
  licenseKeys(first: 2, after: $after) { totalCount edges { cursor node { id key } } }
  paymentMethods { id last4 }
} }"""

EVERY_CUSTOMER = """query($after: String) { customers(first: 10) { edges { node { id
  subscriptions(first: 2) { totalCount edges { node { id } } }
  invoices(first: 2, after: $after) { totalCount edges { node { id } } }
  payments(first: 2) { totalCount edges { node { id } } }
  licenseKeys(first: 2) { totalCount edges { node { id } } }
  paymentMethods { id } } } } }"""


async def hot_statements(portal: Portal, acme: NewBusiness) -> list[tuple[str, list[Any]]]:
    gql, key = portal.gql, acme.test_api_key
    scope = Scope(acme.business.id, Mode.TEST)
    products = await seed_products(scope)
    licensed = await Product.create(
        business_id=scope.business_id,
        mode=scope.mode,
        name="Licensed",
        price_amount=1000,
        currency="EUR",
        is_recurring=False,
        license_key_enabled=True,
    )
    customers = []
    for n in range(3):
        customer_id = await seed_customer(
            scope, f"plan{n}", subscriptions=3, invoices=6, products=products
        )
        for _ in range(3):
            await issue_license_key(licensed, customer_id=customer_id)
        customers.append(customer_id)
    token = await session_for(gql, key, customers[0])

    with recording() as recorder:
        first = await gql(CUSTOMER_PAGE, {}, token=key)
        after = first["customers"]["edges"][-1]["cursor"]
        await gql(CUSTOMER_PAGE, {"after": after}, token=key)
        page = (await gql(LISTS, {"id": customers[0]}, token=key))["customer"]
        # One cursor for all four lists: any well-formed cursor pages each list after it.
        after = page["invoices"]["edges"][-1]["cursor"]
        again = await gql(LISTS, {"id": customers[0], "after": after}, token=key)
        assert again["customer"]["invoices"]["edges"], again
        # Every customer's invoices after one instant: one UNION ALL of keyset pages.
        every = await gql(EVERY_CUSTOMER, {"after": after}, token=key)
        for edge in every["customers"]["edges"]:
            assert edge["node"]["invoices"]["edges"], edge
        await gql(DASHBOARD, {}, token=token)
    return recorder.selects


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def explain_postgres(sql: str, values: list[Any]) -> dict[str, Any]:
    name = f"hot_{uuid.uuid4().hex[:8]}"
    async with in_transaction() as conn:
        await conn.execute_script("SET LOCAL enable_seqscan = off")
        await conn.execute_script("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute_script(f"PREPARE {name} AS {sql}")
        arguments = f"({', '.join(_literal(v) for v in values)})" if values else ""
        [row] = await conn.execute_query_dict(f"EXPLAIN (FORMAT JSON) EXECUTE {name}{arguments}")
        await conn.execute_script(f"DEALLOCATE {name}")
    found = row["QUERY PLAN"]
    plan: dict[str, Any] = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    return plan


def _problems_postgres(sql: str, plan: dict[str, Any]) -> list[str]:
    problems = []
    nodes = list(plan_nodes(plan))
    for node in nodes:
        if node["Node Type"] == "Seq Scan":
            problems.append(f"Seq Scan on {node.get('Relation Name')}")
        if node["Node Type"] == "Sort" and "LIMIT" in sql.upper():
            problems.append("a Sort under a page: the order does not come from an index")
    if KEYSET in sql:
        conditions = " ".join(str(node.get("Index Cond", "")) for node in nodes)
        if "ROW(created_at, (id)::text) < ROW(" not in conditions:
            problems.append("the keyset comparison is not an index condition")
    if ORM_KEYSET in sql:
        conditions = " ".join(str(node.get("Index Cond", "")) for node in nodes)
        if "created_at <=" not in conditions:
            problems.append("the keyset bound is not an index condition")
    return problems


async def explain_sqlite(sql: str, values: list[Any]) -> list[str]:
    client = connections.get("default")
    rows = await client.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}", values)
    return [str(row["detail"]) for row in rows]


async def _problems_sqlite(sql: str, details: list[str], tables: set[str]) -> list[str]:
    problems = []
    for detail in details:
        words = detail.split()
        if words[:1] == ["SCAN"] and len(words) > 1 and words[1] in tables:
            problems.append(detail)
    if KEYSET in sql and not any("(created_at,id)<(?,?)" in d for d in details):
        problems.append("the keyset comparison is not an index search: " + "; ".join(details))
    if ORM_KEYSET in sql and not any("created_at<?" in d for d in details):
        problems.append("the keyset bound is not an index search: " + "; ".join(details))
    return problems


async def test_hot_statements_are_index_searches_at_any_depth(
    portal: Portal, acme: NewBusiness
) -> None:
    selects = await hot_statements(portal, acme)
    keyset_pages = [sql for sql, _ in selects if KEYSET in sql]
    assert len(keyset_pages) >= 4, "the pages after a cursor were not recorded"
    assert any(ORM_KEYSET in sql for sql, _ in selects), "the customers' page 2 was not recorded"
    batched = [sql for sql, _ in selects if "UNION ALL" in sql]
    assert any(KEYSET in sql for sql in batched), "the customers' lists were not batched"
    compiled = [sql for sql, _ in selects if "json_group_array" in sql or "json_agg(r.j" in sql]
    assert len(compiled) == 1, "the dashboard's one statement was not recorded"

    client = connections.get("default")
    postgres = client.capabilities.dialect == "postgres"
    tables: set[str] = set()
    if not postgres:
        rows = await client.execute_query_dict("SELECT name FROM sqlite_master WHERE type='table'")
        tables = {str(row["name"]) for row in rows}
    report = []
    for sql, values in selects:
        if postgres:
            problems = _problems_postgres(sql, await explain_postgres(sql, values))
        else:
            details = await explain_sqlite(sql, values)
            problems = await _problems_sqlite(sql, details, tables)
        if problems:
            report.append(f"{' '.join(sql.split())}\n  -> {problems}")
    assert not report, "\n".join(report)


# Lookups by a foreign key (a customer's saved cards, a subscription's payments, an invoice's
# lines, the cascades when a row goes) need an index that starts with it, or with it after
# the tenant columns only. Saved cards are only ever reached through their customer.
TENANT_COLUMNS = ("business_id", "mode")
NOT_LOOKED_UP = {("payment_method", "business_id")}


async def _foreign_keys_and_indexes() -> tuple[set[tuple[str, str]], dict[str, list[list[str]]]]:
    client = connections.get("default")
    keys: set[tuple[str, str]] = set()
    indexes: dict[str, list[list[str]]] = {}
    if client.capabilities.dialect == "postgres":
        for row in await client.execute_query_dict(
            "SELECT c.conrelid::regclass::text AS tbl, a.attname AS col FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace"
        ):
            keys.add((row["tbl"], row["col"]))
        for row in await client.execute_query_dict(
            "SELECT i.indrelid::regclass::text AS tbl, "
            "array_to_string(array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), ',') "
            "AS cols FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "WHERE c.relnamespace = 'public'::regnamespace"
        ):
            indexes.setdefault(row["tbl"], []).append(str(row["cols"]).split(","))
        return keys, indexes
    tables = await client.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in (str(row["name"]) for row in tables):
        for row in await client.execute_query_dict(f"PRAGMA foreign_key_list('{table}')"):
            keys.add((table, str(row["from"])))
        for index in await client.execute_query_dict(f"PRAGMA index_list('{table}')"):
            info = await client.execute_query_dict(f"PRAGMA index_info('{index['name']}')")
            columns = [str(c["name"]) for c in sorted(info, key=lambda c: c["seqno"])]
            indexes.setdefault(table, []).append(columns)
    return keys, indexes


def _leads(column: str, index: list[str]) -> bool:
    position = index.index(column) if column in index else -1
    return position >= 0 and all(c in TENANT_COLUMNS for c in index[:position])


async def test_every_foreign_key_leads_an_index(database_url: str) -> None:
    keys, indexes = await _foreign_keys_and_indexes()
    assert ("payment_method", "customer_id") in keys
    missing = sorted(
        (table, column)
        for table, column in keys - NOT_LOOKED_UP
        if not any(_leads(column, index) for index in indexes.get(table, []))
    )
    assert missing == [], missing


COUNTS = """query($id: ID!) { customer(id: $id) {
  invoices(first: 1) { totalCount totalCountCapped } } }"""


async def test_total_count_stops_at_ten_thousand_and_says_so(
    portal: Portal, acme: NewBusiness
) -> None:
    scope = Scope(acme.business.id, Mode.TEST)
    customer = await create_customer(scope, email="long@example.com", name="Long History")
    at = now()
    await Invoice.bulk_create(
        [
            Invoice(
                business_id=scope.business_id,
                mode=scope.mode,
                customer_id=customer.id,
                number=f"LONG-{n}",
                status=InvoiceStatus.PAID,
                currency="EUR",
                total_amount=100,
                amount_due=0,
                created_at=at - timedelta(seconds=n),
            )
            for n in range(COUNT_CAP + 1)
        ],
        batch_size=2000,
    )
    with recorded_statements() as statements:
        data = await portal.gql(COUNTS, {"id": str(customer.id)}, token=acme.test_api_key)
    assert data["customer"]["invoices"] == {"totalCount": 10_000, "totalCountCapped": True}
    # Both fields from one count, which reads at most 10,001 rows.
    assert sum("COUNT(" in sql.upper() for sql in statements) == 1, statements

    # One fewer: the count is exact again.
    newest = await Invoice.filter(customer_id=customer.id).order_by("-created_at").first()
    assert newest is not None
    await newest.delete()
    data = await portal.gql(COUNTS, {"id": str(customer.id)}, token=acme.test_api_key)
    assert data["customer"]["invoices"] == {"totalCount": 10_000, "totalCountCapped": False}
