"""The Tortoise configuration, shared by the app, the CLI, migrations and tests."""

from __future__ import annotations

import os
from typing import Any

from models import MODEL_MODULES


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
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
