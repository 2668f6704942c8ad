"""The portal dashboard through GraphQL against the fastest hand-written code for the same JSON.

    .venv/bin/python scripts/bench_dashboard.py [--db sqlite|postgres] [--runs 100]

Creates a fresh database (a SQLite file in a temporary directory, or a PostgreSQL database that
is dropped again at the end), migrates it, seeds one customer per size with a billing history
(scripts/dashboard_data.py), and measures, through the same ASGI app and middleware with a real
portal session token, the dashboard query on /graphql against the floor: endpoints in this
file that answer with the same bytes from hand-written SQL. Every floor variant's body is
compared byte for byte with the GraphQL body before anything is timed; the floor is the
fastest variant of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise import Tortoise, connections

from app.cli import migrate_database
from app.db import tortoise_config
from app.main import create_app
from app.settings import Settings
from dashboard_data import DASHBOARD, SIGN_IN, seed_customer, seed_products
from models import Customer, InvoiceStatus, Mode, PaymentStatus, SubscriptionStatus
from models.clock import clock, now
from services.access.links import create_portal_link
from services.access.sessions import ALGORITHM, AUDIENCE, REQUIRED_CLAIMS
from services.billing.invoice_links import VALID_FOR
from services.businesses import create_business
from services.crypto import derive_key
from services.money import format_money_cached
from services.scope import Scope
from services.sql import as_datetime, select_tuples

PUBLIC_URL = "http://portal.bench"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
SIZES = ((3, 20), (50, 100), (50, 500))
# The GraphQL/floor ratio of medians to stay within (the targets).
TARGETS = {(3, 20): 2.0, (50, 100): 2.5}


# The floor: the same JSON from hand-written SQL.
#
# Every statement finds the caller's scope (business, mode, customer) through the session row,
# so checking the session costs no statement of its own, and the statements need nothing from
# one another: they run at the same time (PostgreSQL: one pooled connection each; SQLite: one
# trip to the connection's thread, services.sql), or as one statement whose lists are arrays of
# rows (PostgreSQL). Only the columns shown are read, and only the joins whose columns are
# shown (an invoice's subscription is its foreign key). The JWT is checked as
# services.access.sessions checks it, with the key derived once.

SESSION = "ps.id = ? AND ps.customer_id = ? AND ps.revoked_at IS NULL"


def _of_customer(alias: str) -> str:
    return (
        f"{alias}.business_id = ps.business_id AND {alias}.mode = ps.mode"
        f" AND {alias}.customer_id = ps.customer_id"
    )


CUSTOMER_FROM = """FROM portal_session ps
JOIN customer c ON c.id = ps.customer_id AND c.business_id = ps.business_id AND c.mode = ps.mode"""

# Each list as (columns, the rest of the statement after FROM).
LISTS = (
    (
        "s.id, s.status, s.next_billing_date, s.price_amount, s.currency,"
        " p.id, p.name, p.price_amount, pm.brand, pm.last4,"
        " (SELECT CAST(COALESCE(SUM(o.amount_due), 0) AS BIGINT) FROM invoice o"
        " WHERE o.subscription_id = s.id AND o.status = 'open')",
        f"""subscription s
JOIN product p ON p.id = s.product_id
LEFT JOIN payment_method pm ON pm.id = s.payment_method_id
WHERE {{where}}{_of_customer("s")}
ORDER BY s.created_at DESC, s.id DESC LIMIT 20""",
    ),
    (
        "i.id, i.number, i.status, i.total_amount, i.amount_due, i.subscription_id",
        f"""invoice i
WHERE {{where}}{_of_customer("i")}
ORDER BY i.created_at DESC, i.id DESC LIMIT 100""",
    ),
    (
        "pay.id, pay.status, pay.amount, i.number, pm.last4",
        f"""payment pay
LEFT JOIN invoice i ON i.id = pay.invoice_id
LEFT JOIN payment_method pm ON pm.id = pay.payment_method_id
WHERE {{where}}{_of_customer("pay")}
ORDER BY pay.created_at DESC, pay.id DESC LIMIT 100""",
    ),
    (
        "pm.id, pm.brand, pm.last4",
        f"""payment_method pm
WHERE {{where}}{_of_customer("pm")} AND pm.removed_at IS NULL
ORDER BY pm.created_at DESC, pm.id DESC""",
    ),
)

# Five statements, each scoped through the session row.
SQL_EACH = [
    f"SELECT c.id, c.email, ps.expires_at {CUSTOMER_FROM} WHERE {SESSION}",
    *(
        f"SELECT {columns} FROM portal_session ps, {rest.format(where=f'{SESSION} AND ')}"  # noqa: S608
        for columns, rest in LISTS
    ),
]

# PostgreSQL: one statement, each list an array of anonymous records, which asyncpg decodes
# into tuples, in the order of its subquery.
SQL_ARRAYS = (
    "SELECT c.id, c.email, ps.expires_at, "  # noqa: S608 (from the constants above)
    + ", ".join(
        f"ARRAY(SELECT ROW({columns}) FROM {rest.format(where='')})"  # noqa: S608
        for columns, rest in LISTS
    )
    + f" {CUSTOMER_FROM} WHERE {SESSION}"
)


def sql_json(dialect: str) -> str:
    """One statement, each list as the JSON text of an array of arrays (one per row), which
    orjson parses. SQLite's json_group_array takes a row's array as text unless it passes
    through json() again."""
    if dialect == "postgres":
        aggregate, array = "json_agg(j)", "json_build_array"
    else:
        aggregate, array = "json_group_array(json(j))", "json_array"
    lists = ", ".join(
        f"(SELECT {aggregate} FROM"  # noqa: S608 (from the constants above)
        f" (SELECT {array}({columns}) AS j FROM {rest.format(where='')}) AS rows_)"
        for columns, rest in LISTS
    )
    return f"SELECT c.id, c.email, ps.expires_at, {lists} {CUSTOMER_FROM} WHERE {SESSION}"


def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …` (none of the statements has a literal `?`)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


SUBSCRIPTION_STATUS = {status.value: status.name for status in SubscriptionStatus}
INVOICE_STATUS = {status.value: status.name for status in InvoiceStatus}
PAYMENT_STATUS = {status.value: status.name for status in PaymentStatus}

Tuples = Sequence[Sequence[Any]]
FloorEndpoint = Callable[[Request], Awaitable[Response]]


class Floor:
    """The dashboard's JSON by hand, read in a few ways (`variants`), written the same way."""

    def __init__(self, settings: Settings, dialect: str) -> None:
        self.issuer = settings.jwt_issuer
        self.session_key = derive_key(settings.secret_key, "portal-session-jwt")
        self.pdf_key = derive_key(settings.secret_key, "invoice-pdf-link")
        self.pdf_prefix = f"{settings.public_url}/invoices/"
        self.dialect = dialect
        number = _numbered if dialect == "postgres" else str
        self.sql_each = [number(sql) for sql in SQL_EACH]
        self.sql_json = number(sql_json(dialect))
        self.sql_arrays = number(SQL_ARRAYS)

    def variants(self) -> dict[str, FloorEndpoint]:
        found: dict[str, FloorEndpoint] = {"concurrent": self.concurrent, "json": self.json}
        if self.dialect == "postgres":
            found["arrays"] = self.arrays
        return found

    async def rows(self, sql: str, params: list[str]) -> Sequence[Sequence[Any]]:
        """PostgreSQL: asyncpg's records as they come; SQLite: through services.sql, so that
        statements started in the same turn of the event loop share one trip to the thread."""
        if self.dialect == "postgres":
            _, records = await connections.get("default").execute_query(sql, params)
            return records  # type: ignore[no-any-return]
        return await select_tuples(Customer, sql, params)

    def session_claims(self, request: Request) -> tuple[str, str] | None:
        """(session id, customer id) of a valid portal session JWT, as
        services.access.sessions.authenticate_session_token checks it before reading the row."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 2000:
            return None
        try:
            claims = jwt.decode(
                token,
                self.session_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        sid, sub, exp, iat = claims["sid"], claims["sub"], claims["exp"], claims["iat"]
        if not isinstance(sid, str) or not isinstance(sub, str):
            return None
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            return None
        at = now().timestamp()
        if exp <= at or iat > at + 60:
            return None
        return sid, sub

    def answer(
        self,
        request: Request,
        customer: Sequence[Any],
        subscriptions: Tuples,
        invoices: Tuples,
        payments: Tuples,
        methods: Tuples,
    ) -> Response:
        expires_at = as_datetime(customer[2])
        at = now()
        if expires_at is None or expires_at <= at:
            return unauthorized()
        locale = (
            "de" if request.headers.get("accept-language", "").lower().startswith("de") else "en"
        )
        expires = int((at + VALID_FOR).timestamp())
        pdf_key, pdf_prefix, digest = self.pdf_key, self.pdf_prefix, hmac.digest
        me = {
            "id": customer[0],
            "email": customer[1],
            "subscriptions": {
                "edges": [
                    {
                        "node": {
                            "id": s[0],
                            "status": SUBSCRIPTION_STATUS[s[1]],
                            "nextBillingDate": None
                            if s[2] is None
                            else as_datetime(s[2]).isoformat(),  # type: ignore[union-attr]
                            "price": {
                                "amount": s[3],
                                "currency": s[4],
                                "formatted": format_money_cached(s[3], s[4], locale),
                            },
                            "product": {"id": s[5], "name": s[6], "price": {"amount": s[7]}},
                            "paymentMethod": None
                            if s[9] is None
                            else {"brand": s[8], "last4": s[9]},
                            "outstandingAmount": {"amount": s[10]},
                        }
                    }
                    for s in subscriptions
                ]
            },
            "invoices": {
                "edges": [
                    {
                        "node": {
                            "id": i[0],
                            "number": i[1],
                            "status": INVOICE_STATUS[i[2]],
                            "total": {"amount": i[3]},
                            "amountDue": {"amount": i[4]},
                            "subscription": None if i[5] is None else {"id": i[5]},
                            "pdfUrl": f"{pdf_prefix}{i[0]}.pdf?expires={expires}&signature="
                            + digest(pdf_key, f"{i[0]}|{expires}".encode(), hashlib.sha256).hex(),
                        }
                    }
                    for i in invoices
                ]
            },
            "payments": {
                "edges": [
                    {
                        "node": {
                            "id": p[0],
                            "status": PAYMENT_STATUS[p[1]],
                            "amount": {"amount": p[2]},
                            "invoice": None if p[3] is None else {"number": p[3]},
                            "paymentMethod": None if p[4] is None else {"last4": p[4]},
                        }
                    }
                    for p in payments
                ]
            },
            "paymentMethods": [{"id": m[0], "brand": m[1], "last4": m[2]} for m in methods],
        }
        return Response(orjson.dumps({"data": {"me": me}}), media_type="application/json")

    # The variants: each reads the same rows its own way.

    async def concurrent(self, request: Request) -> Response:
        """The five statements at once: on PostgreSQL each on its own pooled connection, on
        SQLite in one trip to the connection's thread."""
        claims = self.session_claims(request)
        if claims is None:
            return unauthorized()
        params = list(claims)
        [customer, *lists] = await asyncio.gather(
            *(self.rows(sql, params) for sql in self.sql_each)
        )
        if not customer:
            return unauthorized()
        return self.answer(request, customer[0], *lists)

    async def json(self, request: Request) -> Response:
        """One statement; the lists come as JSON text."""
        claims = self.session_claims(request)
        if claims is None:
            return unauthorized()
        found = await self.rows(self.sql_json, list(claims))
        if not found:
            return unauthorized()
        row = found[0]
        lists = [[] if text is None else orjson.loads(text) for text in row[3:]]
        return self.answer(request, row, *lists)

    async def arrays(self, request: Request) -> Response:
        """PostgreSQL: one statement; the lists come as arrays of records."""
        claims = self.session_claims(request)
        if claims is None:
            return unauthorized()
        found = await self.rows(self.sql_arrays, list(claims))
        if not found:
            return unauthorized()
        row = found[0]
        return self.answer(request, row, *row[3:])


def unauthorized() -> Response:
    return Response(
        orjson.dumps({"errors": [{"message": "portal session needed"}]}),
        status_code=401,
        media_type="application/json",
    )


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
    floors: dict[str, Timing]  # every variant, by name

    @property
    def floor_name(self) -> str:
        return min(self.floors, key=lambda name: self.floors[name].median_ms)

    @property
    def floor(self) -> Timing:
        return self.floors[self.floor_name]

    @property
    def ratio(self) -> float:
        return self.graphql.median_ms / self.floor.median_ms


class Dashboard:
    """The ways to the same JSON, for one customer's session: /graphql and each floor variant
    (`/bench/floor/<variant>`). Only the requests are timed."""

    def __init__(self, http: httpx.AsyncClient, token: str, variants: Sequence[str]) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        self.calls: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
            "graphql": self.post_graphql
        }
        for name in variants:
            self.calls[name] = self._poster(f"/bench/floor/{name}")

    async def post_graphql(self) -> httpx.Response:
        return await self.http.post("/graphql", json={"query": DASHBOARD}, headers=self.headers)

    def _poster(self, path: str) -> Callable[[], Awaitable[httpx.Response]]:
        async def post() -> httpx.Response:
            return await self.http.post(path, headers=self.headers)

        return post

    async def body(self, name: str) -> bytes:
        return checked(await self.calls[name]())


def checked(response: httpx.Response) -> bytes:
    if response.status_code != 200 or b'"errors"' in response.content:
        raise RuntimeError(
            f"{response.request.url.path}: {response.status_code} {response.text[:2000]}"
        )
    return response.content


async def statements_of(call: Callable[[], Awaitable[object]]) -> int:
    with counting_statements() as counter:
        await call()
    return counter.count


async def measure(dashboard: Dashboard, runs: int, warmup: int) -> dict[str, Timing]:
    names = list(dashboard.calls)
    for _ in range(warmup):
        for name in names:
            await dashboard.body(name)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for n in range(runs):
        # Rotate the order so that no side always runs first, on a colder cache.
        for name in names[n % len(names) :] + names[: n % len(names)]:
            started = time.perf_counter()
            response = await dashboard.calls[name]()
            samples[name].append(time.perf_counter() - started)
            if response.status_code != 200:
                checked(response)
    return {
        name: Timing.of(samples[name], await statements_of(dashboard.calls[name])) for name in names
    }


def check_same_body(name: str, graphql: bytes, floor: bytes) -> None:
    """Byte for byte; on a difference, says where the parsed answers part."""
    if graphql == floor:
        return
    mine, theirs = orjson.loads(graphql)["data"]["me"], orjson.loads(floor)["data"]["me"]
    for key in mine:
        if mine[key] != theirs.get(key):
            left = orjson.dumps(mine[key], option=orjson.OPT_INDENT_2).decode()[:1500]
            right = orjson.dumps(theirs.get(key), option=orjson.OPT_INDENT_2).decode()[:1500]
            raise SystemExit(f"{name}: bodies differ at me.{key}:\nGraphQL {left}\nfloor   {right}")
    raise SystemExit(f"{name}: bodies differ in their bytes (same values: key order, escaping?)")


async def profile(dashboard: Dashboard, name: str, runs: int, html: Path | None) -> None:
    """`runs` requests of one side under pyinstrument: where its time goes."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
        return
    profiler = Profiler(interval=0.0002, async_mode="enabled")
    with profiler:
        for _ in range(runs):
            await dashboard.body(name)
    print(f"\n{name}, {runs} requests:")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if html is not None:
        path = html.with_name(f"{html.stem}-{name}{html.suffix}")
        await asyncio.to_thread(path.write_text, profiler.output_html())
        print(f"HTML profile written to {path}")


# The database


def with_database(url: str, database: str, query: str = "") -> str:
    """`url` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", query, ""))


async def pg_admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes: list[tuple[int, int]] = []
    try:
        for item in text.split(","):
            subscriptions, _, invoices = item.strip().partition("x")
            sizes.append((int(subscriptions), int(invoices)))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("sizes look like 3x20,50x100") from exc
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
            await pg_admin(args.postgres_url, f'CREATE DATABASE "{database}"')
            url = with_database(args.postgres_url, database, "minsize=1&maxsize=10")
        try:
            await migrate_database(url)
            await Tortoise.init(config=tortoise_config(url))
            try:
                return await bench(args, url, Path(tmp), sizes)
            finally:
                await Tortoise.close_connections()
        finally:
            if database is not None:
                await pg_admin(
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
    variants = Floor(settings, args.db).variants()
    for name, endpoint in variants.items():
        app.router.routes.insert(0, Route(f"/bench/floor/{name}", endpoint, methods=["POST"]))
    business = (await create_business("Bench GmbH", "billing@bench.example")).business
    scope = Scope(business.id, Mode.TEST)
    products = await seed_products(scope)

    rows: list[Row] = []
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        for subscriptions, invoices in sizes:
            seeded = time.perf_counter()
            customer_id = await seed_customer(
                scope,
                f"c{subscriptions}x{invoices}",
                subscriptions=subscriptions,
                invoices=invoices,
                products=products,
            )
            link = await create_portal_link(settings, scope, customer_id=customer_id)
            signed = await http.post(
                "/graphql",
                json={"query": SIGN_IN, "variables": {"t": link.url.rsplit("/", 1)[1]}},
            )
            token = signed.json()["data"]["signIn"]["sessionToken"]
            dashboard = Dashboard(http, token, list(variants))
            print(
                f"seeded {subscriptions} subscriptions / {invoices} invoices "
                f"in {time.perf_counter() - seeded:.2f}s",
                file=sys.stderr,
            )

            # The signed PDF links carry an expiry in seconds: compare at one frozen instant.
            clock.freeze()
            try:
                graphql = await dashboard.body("graphql")
                for name in variants:
                    check_same_body(name, graphql, await dashboard.body(name))
            finally:
                clock.reset()

            timings = await measure(dashboard, args.runs, args.warmup)
            graphql_timing = timings.pop("graphql")
            row = Row(subscriptions, invoices, graphql_timing, timings)
            rows.append(row)
            if args.profile and (subscriptions, invoices) == sizes[-1]:
                for name in ("graphql", row.floor_name):
                    await profile(dashboard, name, args.profile, args.profile_html)
    return rows


def print_table(db: str, runs: int, rows: list[Row]) -> bool:
    print(
        f"\nportal dashboard on {db}: GraphQL /graphql against the floor "
        f"(hand-written, same bytes), ms, medians and p95 of {runs} requests each"
    )
    header = (
        f"{'size (subs/invoices)':>21} | {'GraphQL med':>11} {'p95':>7} | "
        f"{'floor med':>9} {'p95':>7} | {'ratio':>5} | {'SQL gql/floor':>13} | target"
    )
    print(header)
    print("-" * len(header))
    met = True
    for row in rows:
        target = TARGETS.get((row.subscriptions, row.invoices))
        verdict = (
            "" if target is None else f"<= {target:g}x {'ok' if row.ratio <= target else 'MISSED'}"
        )
        met = met and (target is None or row.ratio <= target)
        print(
            f"{f'{row.subscriptions}/{row.invoices}':>21} | "
            f"{row.graphql.median_ms:>11.2f} {row.graphql.p95_ms:>7.2f} | "
            f"{row.floor.median_ms:>9.2f} {row.floor.p95_ms:>7.2f} | "
            f"{row.ratio:>4.1f}x | "
            f"{f'{row.graphql.statements}/{row.floor.statements}':>13} | {verdict}"
        )
    print("floor variants, median ms (the floor is the fastest of each size):")
    for row in rows:
        listed = ", ".join(
            f"{name} {timing.median_ms:.2f} ({timing.statements} SQL)"
            for name, timing in row.floors.items()
        )
        print(f"  {row.subscriptions}/{row.invoices}: {listed}")
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
        help="profile N requests of GraphQL and of the floor at the last size (pyinstrument)",
    )
    parser.add_argument(
        "--profile-html",
        type=Path,
        default=None,
        help="also write out-graphql.html, out-<floor>.html",
    )
    args = parser.parse_args(argv)
    try:
        rows = asyncio.run(run(args))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"cannot set up the {args.db} database: {exc!r}", file=sys.stderr)
        return 2
    return 0 if print_table(args.db, args.runs, rows) else 1


if __name__ == "__main__":
    sys.exit(main())
