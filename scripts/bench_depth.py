"""Keyset pages at depth and totalCount at 1 M invoices: does a list's cost grow with the data?

    .venv/bin/python scripts/bench_depth.py [--invoices 1000000] [--deep 100000] [--runs 30]

Creates a PostgreSQL database (dropped again at the end), migrates it, and loads `--invoices`
invoices with INSERT … SELECT FROM generate_series: `--deep` of them for one customer (two
at each instant, so that ties on created_at are paged by id), the rest spread over other
customers, 100 each. Then, through /graphql with the merchant's test key (each request sent
straight into the ASGI app, as scripts/bench_dashboard.py does), it times interleaved:

- page 1 of the customer's invoices (`first: 20`),
- page 1000 (after the cursor of the 19,980th invoice) and the last page,
- `totalCount` (with `totalCountCapped`) of that list,

and prints medians and their ratios to page 1 (the target: deep pages within 1.2x). It checks
the deep page's first invoice against an OFFSET query first. Last, at the SQL level with
PostgreSQL forced to generic plans (what asyncpg's prepared statements get after five runs),
it EXPLAINs the page statement with the row comparison and with the OR form it replaced, and
the capped count against a full COUNT(*), printing the index condition and the buffers read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from tortoise import Tortoise

from app.cli import migrate_database
from app.db import tortoise_config
from app.main import create_app
from app.settings import Settings
from bench_dashboard import ASGICall, checked, pg_admin, with_database
from models import Mode
from services.businesses import create_business
from services.customers import create_customer
from services.pagination import COUNT_CAP, encode_cursor
from services.scope import Scope

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
PAGE = 20
DEEP_PAGE = 1000
PER_OTHER_CUSTOMER = 100
TARGET = 1.2  # deep page / page 1, at most

PAGE_QUERY = """query($id: ID!, $after: String) { customer(id: $id) {
  invoices(first: 20, after: $after) {
    edges { node { id number status total { amount currency } issuedAt } }
    pageInfo { hasNextPage endCursor } } } }"""
COUNT_QUERY = """query($id: ID!) { customer(id: $id) {
  invoices(first: 1) { totalCount totalCountCapped } } }"""


# Loading


async def load(conn: asyncpg.Connection, business_id: str, customer_id: str, args: Any) -> None:
    """`args.deep` invoices for `customer_id`, the rest of `args.invoices` for other customers
    of the same business and mode, 100 each."""
    others = max(0, (args.invoices - args.deep) // PER_OTHER_CUSTOMER)
    await conn.execute(
        """INSERT INTO customer (id, business_id, mode, email, email_normalized, name,
               created_at, updated_at)
           SELECT 'cus_' || lpad(g::text, 24, '0'), $1, 'test', 'c' || g || '@example.com',
                  'c' || g || '@example.com', 'Customer ' || g,
                  now() - g * interval '1 second', now()
           FROM generate_series(1, $2::int) g""",
        business_id,
        others,
    )
    # Columns every invoice row needs; two invoices per instant for the deep customer.
    insert = """INSERT INTO invoice (id, business_id, mode, customer_id, number, status,
            currency, total_amount, amount_due, issued_at, paid_at, created_at, kind,
            tax_amount, prices_include_tax)
        SELECT 'inv_' || lpad(({offset} + g)::text, 24, '0'), $1, 'test', {customer},
               'INV-' || ({offset} + g), 'paid', 'EUR', 1500, 0, {at}, {at}, {at}, 'invoice',
               0, false
        FROM generate_series(1, $2::int) g"""
    await conn.execute(
        insert.format(
            offset=0,
            customer="$3",
            at="now() - (g / 2) * interval '1 second'",
        ),
        business_id,
        args.deep,
        customer_id,
    )
    if others:
        await conn.execute(
            insert.format(
                offset=args.deep,
                customer=f"'cus_' || lpad((1 + (g - 1) % {others})::text, 24, '0')",
                at="now() - g * interval '10 milliseconds'",
            ),
            business_id,
            others * PER_OTHER_CUSTOMER,
        )
    # What autovacuum would do soon after a bulk load: statistics and the visibility map.
    await conn.execute("VACUUM ANALYZE invoice")
    await conn.execute("VACUUM ANALYZE customer")


# Timing


class Timer:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    async def time(self, name: str, call: ASGICall) -> bytes:
        started = time.perf_counter()
        answer = await call()
        elapsed = time.perf_counter() - started
        self.samples.setdefault(name, []).append(elapsed * 1000)
        return checked(name, answer)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def p95(self, name: str) -> float:
        values = sorted(self.samples[name])
        return values[min(len(values) - 1, int(len(values) * 0.95))]


def page_call(app: Starlette, key: str, customer_id: str, after: str | None) -> ASGICall:
    body = {"query": PAGE_QUERY, "variables": {"id": customer_id, "after": after}}
    return ASGICall(app, "/graphql", orjson.dumps(body), {"Authorization": f"Bearer {key}"})


async def cursor_at(conn: asyncpg.Connection, customer_id: str, offset: int) -> tuple[str, str]:
    """The cursor of the invoice at `offset` in the list's order, and the id after it."""
    rows = await conn.fetch(
        "SELECT id, created_at FROM invoice WHERE customer_id = $1 "
        "ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 2",
        customer_id,
        offset,
    )
    return encode_cursor(rows[0]["created_at"], rows[0]["id"]), rows[1]["id"]


# Plans


async def explain(conn: asyncpg.Connection, sql: str, params: Sequence[Any]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of `sql` as a prepared statement under a generic plan."""
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    name = f"p{uuid.uuid4().hex[:8]}"
    await conn.execute(f"PREPARE {name} AS {sql}")
    try:
        literal = ", ".join(_literal(value) for value in params)
        text = await conn.fetchval(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {name}({literal})"
        )
    finally:
        await conn.execute(f"DEALLOCATE {name}")
        await conn.execute("RESET plan_cache_mode")
    plan: dict[str, Any] = json.loads(text)[0]
    return plan


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def summary(plan: dict[str, Any]) -> str:
    """Time, buffers, and each scan's index condition and filter."""
    parts: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        if "Scan" in kind:
            bits = [kind, node.get("Index Name", node.get("Relation Name", ""))]
            if "Index Cond" in node:
                bits.append(f"Index Cond: {node['Index Cond']}")
            if "Filter" in node:
                bits.append(f"Filter: {node['Filter']}")
            bits.append(f"rows {node.get('Actual Rows')}")
            parts.append(" ".join(str(bit) for bit in bits))
        for child in node.get("Plans", []):
            walk(child)

    top = plan["Plan"]
    walk(top)
    buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    return f"{plan['Execution Time']:.2f} ms, {buffers} buffers; " + "; ".join(parts)


PAGE_COLUMNS = "t.id, t.number, t.status, t.total_amount, t.currency, t.issued_at, t.created_at"
WHERE = "t.business_id = $1 AND t.mode = $2 AND t.customer_id = $3"
ROW_FORM = (
    f"SELECT {PAGE_COLUMNS} FROM invoice t WHERE {WHERE} AND (t.created_at, t.id) < ($4, $5) "  # noqa: S608
    "ORDER BY t.created_at DESC, t.id DESC LIMIT $6"
)
OR_FORM = (
    f"SELECT {PAGE_COLUMNS} FROM invoice t WHERE {WHERE} "  # noqa: S608
    "AND (t.created_at < $4 OR (t.created_at = $4 AND t.id < $5)) "
    "ORDER BY t.created_at DESC, t.id DESC LIMIT $6"
)
CAPPED_COUNT = f"SELECT COUNT(*) FROM (SELECT 1 FROM invoice t WHERE {WHERE} LIMIT $4) c"  # noqa: S608
FULL_COUNT = f"SELECT COUNT(*) FROM invoice t WHERE {WHERE}"  # noqa: S608


async def plans(
    conn: asyncpg.Connection, business_id: str, customer_id: str, deep_page: int
) -> None:
    row = await conn.fetchrow(
        "SELECT created_at, id FROM invoice WHERE customer_id = $1 "
        "ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
        customer_id,
        PAGE * (deep_page - 1) - 1,
    )
    scope = [business_id, "test", customer_id]
    after = [row["created_at"].isoformat(), row["id"], PAGE + 1]
    print(f"\nSQL under generic plans (plan_cache_mode = force_generic_plan), page {deep_page}:")
    for label, sql, params in (
        ("row comparison", ROW_FORM, [*scope, *after]),
        ("OR form (before)", OR_FORM, [*scope, *after]),
        (f"capped count ({COUNT_CAP:,}+1)", CAPPED_COUNT, [*scope, COUNT_CAP + 1]),
        ("full COUNT(*) (before)", FULL_COUNT, scope),
    ):
        # Twice: the first run reads the pages into the cache.
        await explain(conn, sql, params)
        print(f"  {label:>26}: {summary(await explain(conn, sql, params))}")


# The run


async def run(args: argparse.Namespace) -> bool:
    logging.basicConfig(level=logging.WARNING)
    database = f"portal_depth_{uuid.uuid4().hex[:10]}"
    await pg_admin(args.postgres_url, f'CREATE DATABASE "{database}"')
    url = with_database(args.postgres_url, database, "minsize=1&maxsize=10")
    dsn = with_database(args.postgres_url, database).replace("postgres://", "postgresql://", 1)
    try:
        await migrate_database(url)
        await Tortoise.init(config=tortoise_config(url))
        conn = await asyncpg.connect(dsn)
        try:
            with tempfile.TemporaryDirectory(prefix="bench-depth-") as tmp:
                return await bench(args, url, Path(tmp), conn)
        finally:
            await conn.close()
            await Tortoise.close_connections()
    finally:
        await pg_admin(args.postgres_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def bench(args: argparse.Namespace, url: str, tmp: Path, conn: asyncpg.Connection) -> bool:
    settings = Settings(
        database_url=url,
        public_url="http://portal.bench",
        secret_key="bench-secret-" + "x" * 40,
        var_dir=tmp / "var",
        run_workers=False,
    )
    app: Starlette = create_app(settings, manage_orm=False)
    made = await create_business("Depth GmbH", "billing@depth.example")
    business_id, key = made.business.id, made.test_api_key
    customer = await create_customer(
        Scope(business_id, Mode.TEST), email="deep@example.com", name="Deep History"
    )
    customer_id = str(customer.id)

    started = time.perf_counter()
    await load(conn, business_id, customer_id, args)
    total = await conn.fetchval("SELECT COUNT(*) FROM invoice")
    print(
        f"loaded {total:,} invoices ({args.deep:,} for one customer) "
        f"in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )

    deep_page = min(DEEP_PAGE, max(2, args.deep // PAGE))
    deep_after, deep_first = await cursor_at(conn, customer_id, PAGE * (deep_page - 1) - 1)
    last_after, last_first = await cursor_at(conn, customer_id, args.deep - PAGE - 1)
    calls = {
        "page 1": page_call(app, key, customer_id, None),
        f"page {deep_page}": page_call(app, key, customer_id, deep_after),
        "last page": page_call(app, key, customer_id, last_after),
        "totalCount": ASGICall(
            app,
            "/graphql",
            orjson.dumps({"query": COUNT_QUERY, "variables": {"id": customer_id}}),
            {"Authorization": f"Bearer {key}"},
        ),
    }
    # The pages are the right ones, and the count says what the rule says.
    for name, first_id in ((f"page {deep_page}", deep_first), ("last page", last_first)):
        page = orjson.loads(checked(name, await calls[name]()))["data"]["customer"]["invoices"]
        assert page["edges"][0]["node"]["id"] == first_id, (name, page["edges"][0])
        assert len(page["edges"]) == PAGE
    counted = orjson.loads(checked("totalCount", await calls["totalCount"]()))
    invoices = counted["data"]["customer"]["invoices"]
    expected = (min(args.deep, COUNT_CAP), args.deep > COUNT_CAP)
    assert (invoices["totalCount"], invoices["totalCountCapped"]) == expected, invoices

    timer = Timer()
    for _ in range(args.warmup):
        for name, call in calls.items():
            await timer.time(name, call)
    timer.samples.clear()
    for _ in range(args.runs):  # interleaved, so that load on the machine hits all alike
        for name, call in calls.items():
            await timer.time(name, call)

    first = timer.median("page 1")
    print(
        f"\ncustomer with {args.deep:,} invoices, {total:,} in the table; /graphql, "
        f"ms, medians and p95 of {args.runs} interleaved requests"
    )
    print(f"{'':>12} | {'median':>7} {'p95':>7} | vs page 1")
    met = True
    for name in calls:
        ratio = timer.median(name) / first
        verdict = ""
        if name.startswith(("page ", "last")) and name != "page 1":
            ok = ratio <= TARGET
            met = met and ok
            verdict = f" (target <= {TARGET}x: {'ok' if ok else 'MISSED'})"
        print(
            f"{name:>12} | {timer.median(name):>7.2f} {timer.p95(name):>7.2f} | "
            f"{ratio:.2f}x{verdict}"
        )
    await plans(conn, business_id, customer_id, deep_page)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--invoices", type=int, default=1_000_000, help="in the whole table")
    parser.add_argument("--deep", type=int, default=100_000, help="of them for one customer")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    if args.deep < 2 * PAGE or args.invoices < args.deep:
        parser.error("--deep needs at least two pages, and --invoices at least --deep")
    return 0 if asyncio.run(run(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
