"""The portal dashboard through GraphQL against the same JSON from hand-written SQL.

    .venv/bin/python scripts/bench_dashboard.py [--db sqlite|postgres] [--runs 100]

Creates a fresh database (a SQLite file in a temporary directory, or a PostgreSQL database that
is dropped again at the end), migrates it, seeds one customer per size with a billing history
(scripts/dashboard_data.py), and measures, through the ASGI app with a real portal session
token, the dashboard query against a Starlette endpoint in this file that reads the same rows
with raw SQL over the same Tortoise connection and writes the same JSON. The two bodies are
compared before anything is timed.
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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import Tortoise, connections

from app.auth import resolve_principal
from app.cli import migrate_database
from app.db import tortoise_config
from app.main import create_app
from app.settings import Settings
from dashboard_data import DASHBOARD, SIGN_IN, seed_customer, seed_products
from models import (
    InvoiceStatus,
    Mode,
    PaymentStatus,
    SubscriptionStatus,
)
from models.clock import clock
from services.access.links import create_portal_link
from services.access.principal import PrincipalKind
from services.billing.invoice_links import signed_pdf_url
from services.businesses import create_business
from services.money import format_money
from services.scope import Scope

PUBLIC_URL = "http://portal.bench"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
SIZES = ((3, 20), (50, 100), (50, 500))
TARGETS = {(3, 20): 2.0, (50, 100): 3.0}  # the GraphQL/raw ratio of medians to stay within

# The hand-written endpoint. The query's default page of subscriptions is 20.

SQL_CUSTOMER = "SELECT id, email FROM customer WHERE id = ? AND business_id = ? AND mode = ?"

SQL_SUBSCRIPTIONS = """
SELECT s.id, s.status, s.next_billing_date, s.price_amount, s.currency,
       p.id AS product_id, p.name AS product_name, p.price_amount AS product_price,
       pm.brand AS pm_brand, pm.last4 AS pm_last4,
       (SELECT COALESCE(SUM(i.amount_due), 0) FROM invoice i
         WHERE i.subscription_id = s.id AND i.status = 'open') AS outstanding
FROM subscription s
JOIN product p ON p.id = s.product_id
LEFT JOIN payment_method pm ON pm.id = s.payment_method_id
WHERE s.business_id = ? AND s.mode = ? AND s.customer_id = ?
ORDER BY s.created_at DESC, s.id DESC LIMIT 20"""

SQL_INVOICES = """
SELECT i.id, i.number, i.status, i.total_amount, i.amount_due, s.id AS subscription_id
FROM invoice i LEFT JOIN subscription s ON s.id = i.subscription_id
WHERE i.business_id = ? AND i.mode = ? AND i.customer_id = ?
ORDER BY i.created_at DESC, i.id DESC LIMIT 100"""

SQL_PAYMENTS = """
SELECT pay.id, pay.status, pay.amount, i.number AS invoice_number, pm.last4 AS pm_last4
FROM payment pay
LEFT JOIN invoice i ON i.id = pay.invoice_id
LEFT JOIN payment_method pm ON pm.id = pay.payment_method_id
WHERE pay.business_id = ? AND pay.mode = ? AND pay.customer_id = ?
ORDER BY pay.created_at DESC, pay.id DESC LIMIT 100"""

SQL_PAYMENT_METHODS = """
SELECT id, brand, last4 FROM payment_method
WHERE customer_id = ? AND removed_at IS NULL ORDER BY created_at DESC, id DESC"""


def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …` (none of the queries has a literal `?`)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


def _timestamp(value: datetime | str | None) -> str | None:
    """As Strawberry writes a DateTime: isoformat() of the aware UTC value Tortoise returns."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


def raw_dashboard_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def raw_dashboard(request: Request) -> Response:
        principal = await resolve_principal(settings, request, allow_cookie=False)
        if principal.kind != PrincipalKind.CUSTOMER:
            return JSONResponse({"errors": [{"message": "portal session needed"}]}, 401)
        scope = principal.scope()
        customer_id = str(scope.customer_id)
        keys = [scope.business_id, str(scope.mode), customer_id]
        locale = "de" if request.headers.get("accept-language", "").startswith("de") else "en"
        db = connections.get("default")
        sql = _numbered if db.capabilities.dialect == "postgres" else (lambda text: text)

        [customer] = await db.execute_query_dict(sql(SQL_CUSTOMER), keys[2:] + keys[:2])
        subscriptions = await db.execute_query_dict(sql(SQL_SUBSCRIPTIONS), keys)
        invoices = await db.execute_query_dict(sql(SQL_INVOICES), keys)
        payments = await db.execute_query_dict(sql(SQL_PAYMENTS), keys)
        methods = await db.execute_query_dict(sql(SQL_PAYMENT_METHODS), [customer_id])

        me = {
            "id": customer["id"],
            "email": customer["email"],
            "subscriptions": {
                "edges": [
                    {
                        "node": {
                            "id": row["id"],
                            "status": SubscriptionStatus(row["status"]).name,
                            "nextBillingDate": _timestamp(row["next_billing_date"]),
                            "price": {
                                "amount": row["price_amount"],
                                "currency": row["currency"],
                                "formatted": format_money(
                                    row["price_amount"], row["currency"], locale
                                ),
                            },
                            "product": {
                                "id": row["product_id"],
                                "name": row["product_name"],
                                "price": {"amount": row["product_price"]},
                            },
                            "paymentMethod": None
                            if row["pm_last4"] is None
                            else {"brand": row["pm_brand"], "last4": row["pm_last4"]},
                            "outstandingAmount": {"amount": int(row["outstanding"])},
                        }
                    }
                    for row in subscriptions
                ]
            },
            "invoices": {
                "edges": [
                    {
                        "node": {
                            "id": row["id"],
                            "number": row["number"],
                            "status": InvoiceStatus(row["status"]).name,
                            "total": {"amount": row["total_amount"]},
                            "amountDue": {"amount": row["amount_due"]},
                            "subscription": None
                            if row["subscription_id"] is None
                            else {"id": row["subscription_id"]},
                            "pdfUrl": signed_pdf_url(settings, row["id"]),
                        }
                    }
                    for row in invoices
                ]
            },
            "payments": {
                "edges": [
                    {
                        "node": {
                            "id": row["id"],
                            "status": PaymentStatus(row["status"]).name,
                            "amount": {"amount": row["amount"]},
                            "invoice": None
                            if row["invoice_number"] is None
                            else {"number": row["invoice_number"]},
                            "paymentMethod": None
                            if row["pm_last4"] is None
                            else {"last4": row["pm_last4"]},
                        }
                    }
                    for row in payments
                ]
            },
            "paymentMethods": [
                {"id": row["id"], "brand": row["brand"], "last4": row["last4"]} for row in methods
            ],
        }
        return JSONResponse({"data": {"me": me}})

    return raw_dashboard


# Measuring


class StatementCounter(logging.Handler):
    """Counts the statements Tortoise's clients log (logger `tortoise.db_client`, DEBUG)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith(("Created connection", "Closed connection")):
            self.count += 1


@contextmanager
def counting_statements() -> Iterator[StatementCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.propagate = propagate


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    statements: int

    @classmethod
    def of(cls, samples: list[float], statements: int) -> Timing:
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered) * 1000, p95 * 1000, statements)


@dataclass
class Row:
    subscriptions: int
    invoices: int
    graphql: Timing
    raw: Timing

    @property
    def ratio(self) -> float:
        return self.graphql.median_ms / self.raw.median_ms


class Dashboard:
    """The two ways to the same JSON, for one customer's session. Only the requests are timed;
    reading the response bodies back happens outside the clock."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}

    async def post_graphql(self) -> httpx.Response:
        return await self.http.post("/graphql", json={"query": DASHBOARD}, headers=self.headers)

    async def post_raw(self) -> httpx.Response:
        return await self.http.post("/bench/raw-dashboard", headers=self.headers)

    async def graphql(self) -> dict[str, Any]:
        return checked(await self.post_graphql())

    async def raw(self) -> dict[str, Any]:
        return checked(await self.post_raw())


def checked(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if response.status_code != 200 or "errors" in body:
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {body}")
    return dict(body)


async def statements_of(call: Callable[[], Awaitable[object]]) -> int:
    with counting_statements() as counter:
        await call()
    return counter.count


async def measure(dashboard: Dashboard, runs: int, warmup: int) -> tuple[Timing, Timing]:
    for _ in range(warmup):
        await dashboard.graphql()
        await dashboard.raw()
    samples: dict[str, list[float]] = {"graphql": [], "raw": []}
    calls = {"graphql": dashboard.post_graphql, "raw": dashboard.post_raw}
    for n in range(runs):
        # Alternate which goes first so that neither always runs on a warmer cache.
        for name in ("graphql", "raw") if n % 2 == 0 else ("raw", "graphql"):
            started = time.perf_counter()
            response = await calls[name]()
            samples[name].append(time.perf_counter() - started)
            if response.status_code != 200 or b'"errors"' in response.content:
                checked(response)
    return (
        Timing.of(samples["graphql"], await statements_of(dashboard.graphql)),
        Timing.of(samples["raw"], await statements_of(dashboard.raw)),
    )


def check_same_body(graphql: dict[str, Any], raw: dict[str, Any]) -> None:
    if graphql == raw:
        return
    mine, theirs = graphql["data"]["me"], raw["data"]["me"]
    for key in mine:
        if mine[key] != theirs.get(key):
            left = json.dumps(mine[key], indent=1)[:1500]
            right = json.dumps(theirs.get(key), indent=1)[:1500]
            raise SystemExit(f"bodies differ at me.{key}:\nGraphQL {left}\nraw     {right}")
    raise SystemExit("bodies differ")


def cache_report() -> str:
    """Hits and misses of Strawberry's parser and validation caches (their private LRU caches;
    the parser cache hits only when every request sends the same query text)."""
    try:
        from strawberry.extensions.parser_cache import _get_parse_cache
        from strawberry.extensions.validation_cache import _get_validate_cache
    except ImportError:  # pragma: no cover - depends on Strawberry's internals
        return "cache statistics unavailable"
    parse = _get_parse_cache(128).cache_info()  # type: ignore[attr-defined]
    validate = _get_validate_cache(128).cache_info()  # type: ignore[attr-defined]
    return (
        f"parser cache: {parse.hits} hits / {parse.misses} misses; "
        f"validation cache: {validate.hits} hits / {validate.misses} misses"
    )


async def profile_graphql(dashboard: Dashboard, runs: int, path: Path | None) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
        return
    profiler = Profiler(interval=0.0002, async_mode="enabled")
    with profiler:
        for _ in range(runs):
            await dashboard.graphql()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if path is not None:
        await asyncio.to_thread(path.write_text, profiler.output_html())
        print(f"HTML profile written to {path}")


# The database


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}", query=""))


async def _pg_admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes: list[tuple[int, int]] = []
    for item in text.split(","):
        subscriptions, _, invoices = item.strip().partition("x")
        sizes.append((int(subscriptions), int(invoices)))
    if not sizes or any(s < 1 or i < 0 for s, i in sizes):
        raise argparse.ArgumentTypeError("sizes look like 3x20,50x100")
    return sizes


async def run(args: argparse.Namespace) -> list[Row]:
    logging.basicConfig(level=logging.WARNING)
    sizes: list[tuple[int, int]] = args.sizes
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        database: str | None = None
        if args.db == "sqlite":
            url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        else:
            database = f"portal_bench_{uuid.uuid4().hex[:10]}"
            await _pg_admin(args.postgres_url, f'CREATE DATABASE "{database}"')
            url = _with_database(args.postgres_url, database) + "?minsize=1&maxsize=10"
        try:
            await migrate_database(url)
            await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
            try:
                return await bench(args, url, Path(tmp), sizes)
            finally:
                await Tortoise.close_connections()
        finally:
            if database is not None:
                await _pg_admin(
                    args.postgres_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
                )


async def bench(
    args: argparse.Namespace, url: str, tmp: Path, sizes: list[tuple[int, int]]
) -> list[Row]:
    settings = Settings(
        database_url=url,
        public_url=PUBLIC_URL,
        secret_key="bench-secret-" + "x" * 40,
        var_dir=tmp / "var",
        run_workers=False,
    )
    app: Starlette = create_app(settings, manage_orm=False)
    app.router.routes.insert(
        0, Route("/bench/raw-dashboard", raw_dashboard_endpoint(settings), methods=["POST"])
    )
    business = (await create_business("Bench GmbH", "billing@bench.example")).business
    scope = Scope(business.id, Mode.TEST)
    products = await seed_products(scope)

    rows: list[Row] = []
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        for subscriptions, invoices in sizes:
            label = f"c{subscriptions}x{invoices}"
            seeded = time.perf_counter()
            customer_id = await seed_customer(
                scope, label, subscriptions=subscriptions, invoices=invoices, products=products
            )
            link = await create_portal_link(settings, scope, customer_id=customer_id)
            signed = await http.post(
                "/graphql",
                json={"query": SIGN_IN, "variables": {"t": link.url.rsplit("/", 1)[1]}},
            )
            token = signed.json()["data"]["signIn"]["sessionToken"]
            dashboard = Dashboard(http, token)
            print(
                f"seeded {subscriptions} subscriptions / {invoices} invoices "
                f"in {time.perf_counter() - seeded:.2f}s",
                file=sys.stderr,
            )

            # The signed PDF links carry an expiry in seconds: compare at one frozen instant.
            clock.freeze()
            try:
                check_same_body(await dashboard.graphql(), await dashboard.raw())
            finally:
                clock.reset()

            graphql, raw = await measure(dashboard, args.runs, args.warmup)
            rows.append(Row(subscriptions, invoices, graphql, raw))
            if args.profile and (subscriptions, invoices) == sizes[-1]:
                await profile_graphql(dashboard, args.profile, args.profile_html)
    return rows


def print_table(db: str, rows: list[Row]) -> bool:
    print(f"\nportal dashboard on {db}: GraphQL /graphql against raw SQL, ms over the runs")
    header = (
        f"{'size (subs/invoices)':>21} | {'GraphQL med':>11} {'p95':>7} | "
        f"{'raw med':>8} {'p95':>7} | {'ratio':>5} | {'SQL gql/raw':>11} | target"
    )
    print(header)
    print("-" * len(header))
    met = True
    for row in rows:
        target = TARGETS.get((row.subscriptions, row.invoices))
        verdict = (
            ""
            if target is None
            else (f"<= {target:g}x {'ok' if row.ratio <= target else 'MISSED'}")
        )
        met = met and (target is None or row.ratio <= target)
        print(
            f"{f'{row.subscriptions}/{row.invoices}':>21} | "
            f"{row.graphql.median_ms:>11.2f} {row.graphql.p95_ms:>7.2f} | "
            f"{row.raw.median_ms:>8.2f} {row.raw.p95_ms:>7.2f} | "
            f"{row.ratio:>4.1f}x | "
            f"{f'{row.graphql.statements}/{row.raw.statements}':>11} | {verdict}"
        )
    print(cache_report())
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="server and database to connect to for CREATE/DROP DATABASE",
    )
    parser.add_argument("--runs", type=int, default=100, help="timed requests per size and side")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(SIZES),
        help="subscriptions x invoices per customer, comma separated (default 3x20,50x100,50x500)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile N GraphQL requests at the last size with pyinstrument",
    )
    parser.add_argument("--profile-html", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        rows = asyncio.run(run(args))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"cannot set up the {args.db} database: {exc!r}", file=sys.stderr)
        return 2
    return 0 if print_table(args.db, rows) else 1


if __name__ == "__main__":
    sys.exit(main())
