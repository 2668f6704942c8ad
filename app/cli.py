"""`portal`: serve, migrate, create-business, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tortoise import Tortoise

import mailers
from app.db import tortoise_config
from app.logs import use_json_logs
from app.settings import Settings, settings_from_env


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
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    _prepare_sqlite(settings)
    asyncio.run(migrate_database(settings.database_url))
    print("database is up to date")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    _prepare_sqlite(settings)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level="info",
        # Our AccessLog writes the access log with tokens and signatures redacted.
        access_log=False,
        # No logging setup of uvicorn's own: its lines go up to our JSON lines (app/logs.py).
        log_config=None,
        # Only PORTAL_TRUSTED_PROXIES may set the client address (app/auth.client_ip);
        # uvicorn's own proxy handling would believe X-Forwarded-For from loopback.
        proxy_headers=False,
    )
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
            f"failed {summary.failed}, ended {summary.ended}"
        )

    print(asyncio.run(_with_db(settings, run)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Customer portal server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

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
