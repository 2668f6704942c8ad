"""Every test runs against a fresh database, on SQLite and on PostgreSQL, migrated with our own
migrations. The app is driven through HTTP (ASGI); SMTP is a real aiosmtpd server."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app.cli import migrate_database
from app.db import tortoise_config
from app.main import create_app
from app.settings import Settings
from models.clock import clock
from services.businesses import NewBusiness, create_business
from support import GraphQLClient, MailCatcher

BACKENDS = [b for b in os.environ.get("PORTAL_TEST_DATABASES", "sqlite,postgres").split(",") if b]
POSTGRES_URL = os.environ.get(
    "PORTAL_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
PUBLIC_URL = "http://portal.test"


def _pg_url(database: str) -> str:
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class Templates:
    sqlite_file: Path
    postgres_db: str | None
    postgres_error: str | None


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Each backend migrated once; every test gets a copy."""
    directory = tmp_path_factory.mktemp("templates")
    sqlite_file = directory / "template.sqlite3"
    asyncio.run(migrate_database(f"sqlite://{sqlite_file}"))
    postgres_db = postgres_error = None
    if "postgres" in BACKENDS:
        name = f"portal_tmpl_{uuid.uuid4().hex[:10]}"
        try:
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
            postgres_db = name
            asyncio.run(migrate_database(_pg_url(name)))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            postgres_error = f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc!r}"
    yield Templates(sqlite_file, postgres_db, postgres_error)
    if postgres_db:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{postgres_db}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> AsyncIterator[str]:
    backend = request.param
    if backend == "sqlite":
        target = tmp_path / "portal.sqlite3"
        shutil.copyfile(templates.sqlite_file, target)
        url = f"sqlite://{target}"
        name = None
    else:
        if templates.postgres_error:
            if IN_CI:
                pytest.fail(templates.postgres_error)
            pytest.skip(templates.postgres_error)
        name = f"portal_test_{uuid.uuid4().hex[:12]}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates.postgres_db}"')
        url = _pg_url(name) + "?minsize=1&maxsize=30"
    # Tortoise caches prepared INSERTs per connection *name*; this process switches backends
    # under the same name, so start each test without SQL built for the other dialect.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    try:
        yield url
    finally:
        await Tortoise.close_connections()
        if name:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def real_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def smtp() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture
def settings(database_url: str, smtp: MailCatcher, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        secret_key="test-secret-" + "x" * 40,
        smtp_url=smtp.url,
        var_dir=tmp_path / "var",
        run_workers=False,
        # Generous: a machine busy with other work must not turn slow requests into errors;
        # the limit itself is tested with its own settings (tests/e2e/test_query_cost.py).
        request_timeout_seconds=60.0,
    )


@dataclass
class Portal:
    """The app under test and a GraphQL client on it."""

    settings: Settings
    http: httpx.AsyncClient
    gql: GraphQLClient

    def with_settings(self, **changes: object) -> Settings:
        return replace(self.settings, **changes)  # type: ignore[arg-type]


async def make_portal(settings: Settings) -> tuple[httpx.AsyncClient, GraphQLClient]:
    app = create_app(settings, manage_orm=False)
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
        base_url=PUBLIC_URL,
    )
    return http, GraphQLClient(http)


@pytest.fixture
async def portal(settings: Settings) -> AsyncIterator[Portal]:
    http, gql = await make_portal(settings)
    async with http:
        yield Portal(settings, http, gql)


@pytest.fixture
async def acme(database_url: str) -> NewBusiness:
    return await create_business("Acme GmbH", "support@acme.example", "en")


@pytest.fixture
async def globex(database_url: str) -> NewBusiness:
    return await create_business("Globex Inc", "help@globex.example", "de")


@pytest.fixture(scope="session")
def cen_rules() -> Iterator[Callable[[bytes], list[str]]]:
    """CEN's EN 16931 rules, compiled once per run: XML in, the fatal rules it breaks out."""
    from einvoice_rules import compiled_rules

    yield from compiled_rules()
