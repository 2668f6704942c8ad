"""Our server against a real peer, PostGraphile 4, serving the same dashboard over HTTP.

    .venv/bin/python scripts/bench_peer.py [--sizes 3x20,50x100] [--rounds 3] [--duration 10]

One PostgreSQL database, seeded with the dashboard benchmark's data (scripts/dashboard_data.py),
one customer per size. Two servers on it, one process each: ours (`portal serve`: uvicorn with
uvloop and httptools, PORTAL_ENV=production) and PostGraphile 4 (scripts/peer_postgraphile.py:
installed with npm into var/peer/ on the first run, NODE_ENV=production and its recommended
production flags, no GraphiQL, no query log, a role of its own). Both answer one customer's
dashboard: ours the portal's query with a portal session token, PostGraphile its own query for
the same rows; the answers are checked to hold the same ids, numbers, statuses, dates and
amounts before the runs and after them. `wrk` (scripts/peer_load.py) loads each in turn (ours,
peer, ours, peer, …; who goes first alternates per round): 16 connections for throughput, one
for the median latency, each run after a warm-up. CPU time per request of each server process
comes from /proc/<pid>/stat (utime + stime, all threads) before and after a run; the PostgreSQL
backends of each server are counted the same way (PostGraphile has PostgreSQL build its JSON),
and so is everything else the machine did meanwhile. The servers are stopped and the database
and role dropped at the end, also when something fails or the run is interrupted.

Exits 0 when every run was clean, 1 when the answers differed or a run saw errors, 2 when a
prerequisite is missing (wrk, node and npm, PostgreSQL, `make install`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson
from peer_profile import (
    node_flags,
    print_summary,
    py_spy,
    record_python,
    summarize_node,
    summarize_python,
)
from tortoise import Tortoise

import peer_postgraphile as postgraphile
from app.cli import migrate_database
from app.db import tortoise_config
from app.settings import Settings
from bench_dashboard import DEFAULT_POSTGRES, parse_sizes, pg_admin, with_database
from dashboard_data import DASHBOARD, SIGN_IN, seed_customer, seed_products
from models import Mode
from peer_load import Run, Server, free_port, measured_run, wrk, wrk_script
from peer_postgraphile import Failed, Missing
from services.access.links import create_portal_link
from services.businesses import create_business
from services.scope import Scope

PUBLIC_URL = "https://portal.bench"  # production wants https; nothing connects to it
SIZES = ((3, 20), (50, 100))
CONNECTIONS = (16, 1)  # wrk connections: throughput, then latency
POOL_SIZE = 20  # database connections per server, the same for both


@dataclass
class Tools:
    wrk: str
    node: str
    npm: str
    portal: str


def find_tools() -> Tools:
    hints = {
        "wrk": "wrk is missing: apt-get install wrk",
        "node": "node is missing: PostGraphile runs under Node.js (apt-get install nodejs)",
        "npm": "npm is missing: it installs PostGraphile (apt-get install npm)",
    }
    found = {name: shutil.which(name) for name in hints}
    missing = [hints[name] for name, path in found.items() if path is None]
    portal = Path(sys.executable).parent / "portal"
    if not portal.exists():
        missing.append(f"{portal} is missing: run `make install` first")
    if not Path("/proc/self/stat").exists():
        missing.append("CPU time is read from /proc: this needs Linux")
    if missing:
        raise Missing("; ".join(missing))
    return Tools(found["wrk"] or "", found["node"] or "", found["npm"] or "", str(portal))


# The database


@dataclass
class Customer:
    subscriptions: int
    invoices: int
    customer_id: str
    business_id: str
    mode: str
    link_token: str  # a portal link's, signed in on our server for a session

    @property
    def size(self) -> str:
        return f"{self.subscriptions}/{self.invoices}"


async def seed(url: str, sizes: list[tuple[int, int]]) -> list[Customer]:
    await migrate_database(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        settings = Settings(database_url=url, public_url=PUBLIC_URL, secret_key="x" * 40)
        business = (await create_business("Peer Bench GmbH", "billing@peer.example")).business
        scope = Scope(business.id, Mode.TEST)
        products = await seed_products(scope)
        customers = []
        for subscriptions, invoices in sizes:
            customer_id = await seed_customer(
                scope,
                f"peer{subscriptions}x{invoices}",
                subscriptions=subscriptions,
                invoices=invoices,
                products=products,
            )
            link = await create_portal_link(settings, scope, customer_id=customer_id)
            token = link.url.rsplit("/", 1)[1]
            customers.append(
                Customer(subscriptions, invoices, customer_id, business.id, scope.mode, token)
            )
        return customers
    finally:
        await Tortoise.close_connections()


async def emails_queued(url: str) -> int:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM outbox_message WHERE kind = 'email' AND status = 'pending'"
        )
        return int(count)
    finally:
        await conn.close()


# The requests


@dataclass
class Dashboard:
    """One server's request for one customer's dashboard, and the length of its verified answer
    (wrk counts any other answer as bad)."""

    server: Server
    body: bytes
    headers: dict[str, str]
    length: int = 0

    async def fetch(self, http: httpx.AsyncClient) -> bytes:
        response = await http.post(
            f"{self.server.url}/graphql",
            content=self.body,
            headers={"Content-Type": "application/json", **self.headers},
            timeout=30,
        )
        if response.status_code != 200 or b'"errors"' in response.content:
            raise Failed(f"{self.server.name}: {response.status_code} {response.text[:2000]}")
        return response.content


async def dashboards(
    http: httpx.AsyncClient, ours: Server, peer: Server, customer: Customer
) -> tuple[Dashboard, Dashboard]:
    """Our request (with a session signed in through the customer's link) and the peer's, each
    answer checked against the other."""
    signed = await http.post(
        f"{ours.url}/graphql", json={"query": SIGN_IN, "variables": {"t": customer.link_token}}
    )
    token = ((signed.json().get("data") or {}).get("signIn") or {}).get("sessionToken")
    if signed.status_code != 200 or not token:
        raise Failed(f"signIn failed: {signed.status_code} {signed.text[:500]}")
    mine = Dashboard(
        ours,
        orjson.dumps({"query": DASHBOARD}),
        {"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    theirs = Dashboard(
        peer,
        postgraphile.request_body(customer.customer_id, customer.business_id, customer.mode),
        {},
    )
    ours_body, peer_body = await mine.fetch(http), await theirs.fetch(http)
    postgraphile.check_same_rows(customer.size, ours_body, peer_body)
    mine.length, theirs.length = len(ours_body), len(peer_body)
    print(
        f"{customer.size}: the same rows from both ({len(ours_body)} bytes ours, "
        f"{len(peer_body)} bytes PostGraphile's)",
        file=sys.stderr,
    )
    return mine, theirs


# Measuring


@dataclass
class Cell:
    """The runs of one size."""

    size: str
    runs: dict[tuple[str, int], list[Run]] = field(default_factory=dict)  # (server, connections)

    def median(self, server: str, connections: int, what: str) -> float:
        return statistics.median(getattr(run, what) for run in self.runs[(server, connections)])

    def ratio(self, connections: int, what: str) -> float:
        """Ours / peer's, the median of the rounds' ratios: each pair of runs ran back to back,
        on the machine as it was then."""
        pairs = zip(self.runs[("ours", connections)], self.runs[("peer", connections)], strict=True)
        return statistics.median(getattr(ours, what) / getattr(peer, what) for ours, peer in pairs)

    @property
    def clean(self) -> bool:
        return all(run.clean for runs in self.runs.values() for run in runs)

    @property
    def busiest_others(self) -> float:
        return max(run.others_cores for runs in self.runs.values() for run in runs)


async def measure_size(
    args: argparse.Namespace,
    tools: Tools,
    admin: asyncpg.Connection,
    database: str,
    pair: tuple[Dashboard, Dashboard],
    cell: Cell,
    tmp: Path,
) -> None:
    scripts = {}
    for dashboard in pair:
        script = tmp / f"{dashboard.server.name}-{cell.size.replace('/', 'x')}.lua"
        script.write_text(wrk_script(dashboard.body, dashboard.headers, dashboard.length))
        scripts[dashboard.server.name] = script
    for n in range(args.rounds):
        order = pair if n % 2 == 0 else pair[::-1]
        for connections in CONNECTIONS:
            for dashboard in order:
                server = dashboard.server
                script = scripts[server.name]
                if args.warmup > 0:  # also reopens what the pools closed while idle
                    await wrk(tools.wrk, server.url, script, connections, args.warmup)
                run = await measured_run(
                    tools.wrk, server, script, connections, args.duration, admin, database
                )
                cell.runs.setdefault((server.name, connections), []).append(run)
                print(
                    f"{cell.size} round {n + 1} {server.name:<4} c={connections:<2}: "
                    f"{run.throughput:6.0f} req/s, p50 {run.p50_ms:6.2f} ms, "
                    f"CPU {run.cpu_per_request_ms:5.2f} ms/req, "
                    f"PG {run.db_cpu_per_request_ms:5.2f} ms/req, "
                    f"others {run.others_cores:.2f} cores, steal {run.steal_cores:.2f}"
                    + ("" if run.clean else f", {run.load.errors} errors, {run.load.bad} bad"),
                    file=sys.stderr,
                )


def print_results(cells: list[Cell], args: argparse.Namespace, version: str) -> None:
    print(
        f"\nportal dashboard over HTTP: ours against PostGraphile {version}, one process each; "
        f"medians of {args.rounds} interleaved {args.duration:g} s wrk runs per cell"
    )
    header = (
        f"{'size':>7} | {'req/s c=16: ours':>16} {'peer':>6} {'ratio':>6} | "
        f"{'p50 c=1: ours':>13} {'peer':>6} {'ratio':>6} | "
        f"{'CPU/req: ours':>13} {'peer':>6} | {'PG CPU/req: ours':>16} {'peer':>6}"
    )
    print(header)
    print("-" * len(header))
    for c in cells:
        ours_rps, peer_rps = c.median("ours", 16, "throughput"), c.median("peer", 16, "throughput")
        ours_p50, peer_p50 = c.median("ours", 1, "p50_ms"), c.median("peer", 1, "p50_ms")
        print(
            f"{c.size:>7} | {ours_rps:>16.0f} {peer_rps:>6.0f} "
            f"{c.ratio(16, 'throughput'):>5.2f}x | "
            f"{ours_p50:>10.2f} ms {peer_p50:>6.2f} {c.ratio(1, 'p50_ms'):>5.2f}x | "
            f"{c.median('ours', 16, 'cpu_per_request_ms'):>10.2f} ms "
            f"{c.median('peer', 16, 'cpu_per_request_ms'):>6.2f} | "
            f"{c.median('ours', 16, 'db_cpu_per_request_ms'):>13.2f} ms "
            f"{c.median('peer', 16, 'db_cpu_per_request_ms'):>6.2f}"
        )
    print(
        "ratio = ours / peer's, the median of the rounds' ratios (throughput: above 1 favours "
        "ours; latency: below 1 does). "
        "CPU/req: the server process, utime+stime per request at 16 connections; "
        "PG CPU/req: the PostgreSQL backends it was connected to."
    )
    print(
        "each run: req/s, p50 ms, p99 ms, CPU ms/req, PG CPU ms/req, other work and steal (cores)"
    )
    for c in cells:
        for (server, connections), runs in c.runs.items():
            listed = "; ".join(
                f"{run.throughput:.0f} {run.p50_ms:.2f} {run.load.p99_ms:.2f} "
                f"{run.cpu_per_request_ms:.2f} {run.db_cpu_per_request_ms:.2f} "
                f"{run.others_cores:.2f} {run.steal_cores:.2f}"
                + ("" if run.clean else f" ERRORS {run.load.errors} BAD {run.load.bad}")
                for run in runs
            )
            print(f"  {c.size} {server} c={connections}: {listed}")
    busiest = max(c.busiest_others for c in cells)
    if busiest > 0.25:
        print(
            f"note: other work kept up to {busiest:.2f} of the machine's {os.cpu_count()} cores "
            "busy during some runs; the interleaving shares it out, but compare with care"
        )


# Profiles (--profile)


async def profile_servers(
    args: argparse.Namespace,
    tools: Tools,
    pairs: list[tuple[Dashboard, Dashboard]],
    sizes: list[str],
    start_peer: Callable[[str, list[str]], Server],
    tmp: Path,
) -> None:
    """Per size, `--profile` seconds at 16 connections: our measured process under py-spy, and
    a second PostGraphile under V8's profiler."""
    seconds: float = args.profile
    for size, (mine, _) in zip(sizes, pairs, strict=True):
        label = size.replace("/", "x")
        script = tmp / f"ours-{label}.lua"
        if py_spy() is None:
            print("\n(no py-spy: .venv/bin/pip install py-spy to profile ours)")
        else:
            await wrk(tools.wrk, mine.server.url, script, 16, args.warmup or 1)
            raw = tmp / f"ours-{label}.py-spy.txt"
            recording = asyncio.create_task(record_python(mine.server.pid, seconds, raw))
            await wrk(tools.wrk, mine.server.url, script, 16, seconds)
            await recording
            print_summary(f"ours, {size}, 16 connections (py-spy)", summarize_python(raw))

        directory = tmp / f"peer-{label}-cpuprofile"
        node = [tools.node, *node_flags(directory)]
        profiled = start_peer(f"peer-profiled-{label}", node)
        try:
            async with httpx.AsyncClient() as http:
                await profiled.wait_ready(http)
            script = tmp / f"peer-{label}.lua"
            await wrk(tools.wrk, profiled.url, script, 16, args.warmup or 1)
            await wrk(tools.wrk, profiled.url, script, 16, seconds)
            profiled.process.send_signal(signal.SIGINT)
            await asyncio.to_thread(profiled.process.wait, 30)
        finally:
            profiled.stop()
        found = sorted(directory.glob("*.cpuprofile"))
        if not found:
            print(f"\n(PostGraphile wrote no profile:\n{profiled.log_tail()})")
            continue
        summary = summarize_node(found[-1], seconds)
        print_summary(f"PostGraphile, {size}, 16 connections (node --cpu-prof)", summary)


# The whole benchmark


async def bench(args: argparse.Namespace, tools: Tools, peer: Path, version: str) -> int:
    # SIGTERM cancels the benchmark as Ctrl-C does, so that the clean-up below runs.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)

    database = f"portal_peer_{uuid.uuid4().hex[:10]}"
    role = f"{database}_postgraphile"
    role_password = secrets.token_hex(16)
    admin_url: str = args.postgres_url
    admin_parts = urlsplit(admin_url)
    host, db_port = admin_parts.hostname or "127.0.0.1", admin_parts.port or 5432
    servers: list[Server] = []
    created_database = created_role = False
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            try:
                await pg_admin(admin_url, f'CREATE DATABASE "{database}"')
            except (OSError, asyncpg.PostgresError) as exc:
                raise Missing(f"cannot create a database at {admin_url}: {exc!r}") from exc
            created_database = True
            url = with_database(admin_url, database)
            print(f"seeding {database} …", file=sys.stderr)
            customers = await seed(url, args.sizes)
            await pg_admin(admin_url, f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{role_password}'")
            created_role = True
            await pg_admin(url, postgraphile.DATABASE_SETUP.format(role=role))
            if queued := await emails_queued(url):
                raise Failed(f"{queued} emails queued after seeding: the outbox would send them")

            ours_port = free_port()
            ours_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
            ours_env.update(
                PORTAL_ENV="production",
                PORTAL_DATABASE_URL=with_database(
                    admin_url, database, f"minsize=1&maxsize={POOL_SIZE}"
                ),
                PORTAL_PUBLIC_URL=PUBLIC_URL,
                PORTAL_SECRET_KEY=secrets.token_urlsafe(48),
                # Production wants one; no email is queued (checked above), so none is sent.
                PORTAL_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
                PORTAL_VAR_DIR=str(tmp / "var"),
            )
            ours_argv = [tools.portal, "serve", "--host", "127.0.0.1", "--port", str(ours_port)]
            admin_user = admin_parts.username or "postgres"
            servers.append(
                Server.start("ours", ours_argv, ours_env, tmp / "ours.log", ours_port, admin_user)
            )

            def start_peer(name: str, node: list[str] | None = None) -> Server:
                # The role's password goes in the environment, not on the command line.
                env = dict(os.environ, NODE_ENV="production", PGPASSWORD=role_password)
                port = free_port()
                connection = f"postgres://{role}@{host}:{db_port}/{database}"
                argv = postgraphile.command(peer, connection, port, POOL_SIZE, node)
                server = Server.start(name, argv, env, tmp / f"{name}.log", port, role)
                servers.append(server)
                return server

            start_peer("peer")
            ours, theirs = servers[:2]
            async with httpx.AsyncClient() as http:
                await ours.wait_ready(http)
                await theirs.wait_ready(http)
                loop = "uvloop" if ours.has_loaded("uvloop") else "NOT uvloop"
                print(
                    f"ours: pid {ours.pid} ({loop}); PostGraphile {version}: pid {theirs.pid}",
                    file=sys.stderr,
                )
                pairs = [await dashboards(http, ours, theirs, c) for c in customers]

            cells = []
            admin = await asyncpg.connect(
                admin_url.replace("postgres://", "postgresql://", 1), timeout=5
            )
            try:
                for customer, pair in zip(customers, pairs, strict=True):
                    cell = Cell(customer.size)
                    await measure_size(args, tools, admin, database, pair, cell, tmp)
                    cells.append(cell)
            finally:
                await admin.close()
            async with httpx.AsyncClient() as http:  # nothing changed the data meanwhile
                for customer, (mine, peers) in zip(customers, pairs, strict=True):
                    ours_body, peer_body = await mine.fetch(http), await peers.fetch(http)
                    postgraphile.check_same_rows(customer.size, ours_body, peer_body)
            print_results(cells, args, version)
            if args.profile > 0:
                sizes = [customer.size for customer in customers]
                await profile_servers(args, tools, pairs, sizes, start_peer, tmp)
            if not all(cell.clean for cell in cells):
                print("some runs had errors or answers other than the verified one")
                return 1
            return 0
        finally:
            for server in servers:
                server.stop()
            if created_database:
                await pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            if created_role:
                await pg_admin(admin_url, f'DROP ROLE IF EXISTS "{role}"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="server and login that may create databases and roles",
    )
    parser.add_argument("--sizes", type=parse_sizes, default=list(SIZES), help="3x20,50x100")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each server per cell")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before each")
    parser.add_argument(
        "--profile",
        type=float,
        default=0,
        metavar="SECONDS",
        help="then profile each server that long per size (py-spy; node --cpu-prof)",
    )
    args = parser.parse_args(argv)
    try:
        tools = find_tools()
        peer, version = postgraphile.install(tools.npm)
        return asyncio.run(bench(args, tools, peer, version))
    except Missing as missing:
        print(f"missing prerequisite: {missing}", file=sys.stderr)
        return 2
    except Failed as failed:
        print(f"failed: {failed}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, database and role dropped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
