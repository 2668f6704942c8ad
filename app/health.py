"""`/healthz`: the process answers. `/readyz`: it can serve: the database answers and every
migration we ship is applied. A load balancer sends traffic only while /readyz says 200; 503
carries the reason (no secrets: never the database URL or the driver's message)."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import connections
from tortoise.migrations.executor import MigrationExecutor

from app.db import tortoise_config

logger = logging.getLogger("portal.health")

READY_TIMEOUT_SECONDS = 5.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def pending_migrations(database_url: str) -> list[str]:
    """The names of the migrations this code ships that the database has not applied."""
    apps = tortoise_config(database_url)["apps"]
    executor = MigrationExecutor(connections.get("default"), apps)
    steps = await executor.plan()
    return [f"{step.migration.app_label}.{step.migration.name}" for step in steps]


async def readyz(request: Request) -> Response:
    settings = request.app.state.settings
    try:
        # A database that does not answer at all must not hold the probe until it gives up.
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await connections.get("default").execute_query("SELECT 1")
    except Exception as error:  # any failure means: not ready
        logger.warning("readiness: database unreachable (%s)", type(error).__name__)
        return _not_ready("database unreachable")
    try:
        pending = await pending_migrations(settings.database_url)
    except Exception as error:
        logger.warning("readiness: migrations unreadable (%s)", type(error).__name__)
        return _not_ready("migrations could not be read")
    if pending:
        return _not_ready("database not migrated (run `portal migrate`)", pending=pending)
    return JSONResponse({"status": "ready"})


def _not_ready(reason: str, **details: object) -> Response:
    return JSONResponse(
        {"status": "unavailable", "reason": reason, **details},
        status_code=503,
        headers={"cache-control": "no-store"},
    )
