"""The portal dashboard through GraphQL against the fastest hand-written code for the same JSON.

    .venv/bin/python scripts/bench_dashboard.py [--db sqlite|postgres] [--runs 100]

Creates a fresh database (a SQLite file in a temporary directory, or a PostgreSQL database that
is dropped again at the end), migrates it, seeds one customer per size with a billing history
(scripts/dashboard_data.py), and measures the dashboard query on /graphql against the floor
(scripts/dashboard_floor.py: endpoints that answer with the same bytes from hand-written SQL),
both in one app with the same middleware and a real portal session token. Each request is
sent straight into the ASGI app and timed around that call: no HTTP client or transport is in
the clock, which would add the same fraction of a millisecond to both sides (an HTTP server's
own cost is what scripts/bench_peer.py measures). Every floor variant's body is compared byte for
byte with the GraphQL body before anything is timed; the floor is the fastest variant of the
run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Message
from tortoise import Tortoise

from app.cli import migrate_database
from app.db import tortoise_config
from app.main import create_app
from app.settings import Settings
from dashboard_data import DASHBOARD, SIGN_IN, seed_customer, seed_products
from dashboard_floor import Floor
from models import Mode
from models.clock import clock
from services.access.links import create_portal_link
from services.businesses import create_business
from services.scope import Scope

PUBLIC_URL = "http://portal.bench"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
SIZES = ((3, 20), (50, 100), (50, 500))
# The GraphQL/floor ratio of medians to stay within (the targets).
TARGETS = {(3, 20): 2.0, (50, 100): 2.5}


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


@dataclass
class Answer:
    status: int
    body: bytes


class ASGICall:
    """One POST, prepared once, sent straight into the ASGI app: no HTTP client or transport in
    the timed path, only the app with its middleware (what a server process runs per request,
    the HTTP parsing of uvicorn aside)."""

    def __init__(self, app: Starlette, path: str, body: bytes, headers: dict[str, str]) -> None:
        self.app = app
        self.body = body
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "server": ("portal.bench", 80),
            "client": ("203.0.113.9", 50000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [
                (name.lower().encode(), value.encode())
                for name, value in {
                    "host": "portal.bench",
                    "content-type": "application/json",
                    "content-length": str(len(body)),
                    **headers,
                }.items()
            ],
        }

    async def __call__(self) -> Answer:
        done = asyncio.Event()
        given = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await done.wait()  # as a server does: the client leaves once it has the answer
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await self.app(dict(self.scope), receive, send)
        return Answer(status, b"".join(chunks))


class Dashboard:
    """The ways to the same JSON, for one customer's session: /graphql and each floor variant
    (`/bench/floor/<variant>`)."""

    def __init__(self, app: Starlette, token: str, variants: Sequence[str]) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        self.calls = {
            "graphql": ASGICall(app, "/graphql", orjson.dumps({"query": DASHBOARD}), headers)
        }
        for name in variants:
            self.calls[name] = ASGICall(app, f"/bench/floor/{name}", b"", headers)

    async def body(self, name: str) -> bytes:
        return checked(name, await self.calls[name]())


def checked(name: str, answer: Answer) -> bytes:
    if answer.status != 200 or b'"errors"' in answer.body:
        raise RuntimeError(f"{name}: {answer.status} {answer.body[:2000].decode(errors='replace')}")
    return answer.body


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
            call = dashboard.calls[name]
            started = time.perf_counter()
            answer = await call()
            samples[name].append(time.perf_counter() - started)
            if answer.status != 200:
                checked(name, answer)
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


async def profile(
    dashboard: Dashboard, name: str, runs: int, html: Path | None, every_frame: bool = False
) -> None:
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
    print(
        profiler.output_text(
            unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))
        )
    )
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
        sign_in = {"query": SIGN_IN, "variables": {"t": link.url.rsplit("/", 1)[1]}}
        signed = await ASGICall(app, "/graphql", orjson.dumps(sign_in), {})()
        token = orjson.loads(checked("signIn", signed))["data"]["signIn"]["sessionToken"]
        dashboard = Dashboard(app, token, list(variants))
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
                await profile(
                    dashboard, name, args.profile, args.profile_html, args.profile_every_frame
                )
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
    parser.add_argument(
        "--profile-every-frame",
        action="store_true",
        help="show the libraries' frames too (pyinstrument hides them by default)",
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
