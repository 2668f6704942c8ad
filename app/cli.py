"""`portal`: serve, worker, migrate, create-business, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tortoise import Tortoise

import mailers
from app.db import tortoise_config
from app.logs import use_json_logs
from app.settings import Settings, settings_from_env

logger = logging.getLogger("portal")


def _prepare_sqlite(settings: Settings) -> None:
    url = settings.database_url
    if url.startswith("sqlite://") and ":memory:" not in url:
        Path(url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


async def migrate_database(database_url: str) -> None:
    from tortoise.migrations.api.migrate import migrate

    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


async def _with_db(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    from services import payment_updates

    await Tortoise.init(config=tortoise_config(settings.database_url))
    # A payment settled here (billing-run) is announced to the servers' paymentUpdated watchers.
    payment_updates.configure(settings)
    try:
        return await work()
    finally:
        await payment_updates.close()
        await Tortoise.close_connections()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    _prepare_sqlite(settings)
    asyncio.run(migrate_database(settings.database_url))
    print("database is up to date")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    _prepare_sqlite(settings)
    if args.no_jobs:
        settings = replace(settings, run_workers=False)
        # The worker processes of `--workers N` read their settings from the environment.
        os.environ["PORTAL_RUN_JOBS"] = "0"
    if args.workers > 1 and not settings.redis_url:
        message = (
            "several processes need PORTAL_REDIS_URL: without it each keeps its own rate-limit "
            "counts, and a client gets the limit once per process"
        )
        if settings.production:
            print(f"error: {message}", file=sys.stderr)
            return 2
        logger.warning("%s", message)
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        # Our AccessLog writes the access log with tokens and signatures redacted.
        "access_log": False,
        # No logging setup of uvicorn's own: its lines go up to our JSON lines (app/logs.py).
        "log_config": None,
        # Only PORTAL_TRUSTED_PROXIES may set the client address (app/auth.client_ip);
        # uvicorn's own proxy handling would believe X-Forwarded-For from loopback.
        "proxy_headers": False,
        # On SIGTERM: stop accepting, let requests under way finish for up to this long, then
        # the lifespan gives the jobs the same grace (app/jobs.Jobs.stop).
        "timeout_graceful_shutdown": max(1, round(settings.shutdown_grace_seconds)),
    }
    if args.workers > 1:
        # Each worker process builds the app from the environment, as `portal serve` would.
        uvicorn.run("app.main:app_from_env", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Runs the jobs only (outbox, webhook deliveries, billing), until SIGTERM or SIGINT; then
    finishes the work under way (or releases it) and exits."""
    from app.jobs import Jobs
    from services.payments.stripe_gateway import close_clients

    _prepare_sqlite(settings)

    async def run() -> None:
        await Tortoise.init(config=tortoise_config(settings.database_url))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        jobs = Jobs(settings)
        try:
            jobs.start()
            logger.info("worker started (SMTP sessions: %d)", settings.smtp_concurrency)
            await stop.wait()
            logger.info("worker stopping: finishing the jobs under way")
        finally:
            await jobs.stop()
            await close_clients()
            await Tortoise.close_connections()
        logger.info("worker stopped")

    asyncio.run(run())
    return 0


def cmd_create_business(settings: Settings, args: argparse.Namespace) -> int:
    from services.businesses import create_business
    from services.errors import ServiceError

    try:
        created = asyncio.run(
            _with_db(settings, lambda: create_business(args.name, args.support_email, args.locale))
        )
    except ServiceError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    result = {
        "business_id": created.business.id,
        "test_api_key": created.test_api_key,
        "live_api_key": created.live_api_key,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"business:     {result['business_id']}")
        print(f"test API key: {result['test_api_key']}   (shown once)")
        print(f"live API key: {result['live_api_key']}   (shown once)")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo import seed_demo

    summary = asyncio.run(_with_db(settings, lambda: seed_demo(settings)))
    print(summary)
    return 0


def cmd_billing_run(settings: Settings, args: argparse.Namespace) -> int:
    from services.billing.refunds import settle_pending_refunds
    from services.billing.renewals import renew_due_subscriptions
    from services.billing.settlement import settle_stale_payments

    async def run() -> str:
        settled = await settle_stale_payments(settings)
        refunds = await settle_pending_refunds(settings)
        summary = await renew_due_subscriptions(settings)
        return (
            f"settled {settled}, refunds settled {refunds}, renewed {summary.renewed}, "
            f"failed {summary.failed}, ended {summary.ended}, paused {summary.paused}, "
            f"resumed {summary.resumed}"
        )

    print(asyncio.run(_with_db(settings, run)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Customer portal server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP worker processes (uvicorn); more than one needs PORTAL_REDIS_URL",
    )
    serve.add_argument(
        "--no-jobs",
        action="store_true",
        help="answer requests only; `portal worker` runs the jobs (also PORTAL_RUN_JOBS=0)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser(
        "worker", help="run the jobs only: outbox, webhook deliveries, billing runs"
    )
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(func=cmd_migrate)

    create = commands.add_parser("create-business", help="create a business and its API keys")
    create.add_argument("name")
    create.add_argument("--support-email", required=True)
    create.add_argument("--locale", choices=["en", "de"], default="en")
    create.add_argument("--json", action="store_true", help="print the result as JSON")
    create.set_defaults(func=cmd_create_business)

    billing = commands.add_parser("billing", help="billing tasks")
    billing_commands = billing.add_subparsers(dest="billing_command", required=True)
    billing_run = billing_commands.add_parser("run", help="renew every subscription due now")
    billing_run.set_defaults(func=cmd_billing_run)

    demo = commands.add_parser("demo", help="seed a demo business and print keys and links")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    use_json_logs(logging.INFO)
    args = build_parser().parse_args(argv)
    settings = settings_from_env()
    # Commands that email (billing run, demo) use the merchant's templates, as the server does.
    mailers.use_templates_dir(settings.templates_dir)
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
