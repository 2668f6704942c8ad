"""The Tortoise configuration, shared by the app, the CLI, migrations and tests."""

from __future__ import annotations

import os
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from models import MODEL_MODULES

POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")


async def release_as_is(connection: Any) -> None:
    """asyncpg's pool `reset` (a documented argument of `create_pool`): what a connection goes
    through on its way back to the pool, after asyncpg has rolled back any open transaction.
    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`,
    a round trip for every statement Tortoise runs outside a transaction. None of that state is
    ever made on a pooled connection here: no advisory locks, no cursors, no LISTEN (the
    payment-update watcher has a connection of its own), no session settings (`SET`); a test
    keeps it so (tests/architecture/test_pooled_connections.py)."""


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection: str | dict[str, Any] = database_url
    if database_url.startswith(POSTGRES_SCHEMES):
        connection = expand_db_url(database_url)
        connection["credentials"]["reset"] = release_as_is
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For the `tortoise` command line (makemigrations): `tortoise -c app.db.TORTOISE_ORM …`.
TORTOISE_ORM = tortoise_config(os.environ.get("PORTAL_DATABASE_URL", "sqlite://var/portal.sqlite3"))
