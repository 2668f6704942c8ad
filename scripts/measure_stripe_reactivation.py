"""How long the seed's core step takes with Stripe: a customer gives a new card to an ON_HOLD
subscription and what is owed is charged on-session (attach the card, one PaymentIntent, the
three steps, emails and events into the outbox), timed around the updatePaymentMethod request.

Stripe is localstripe, run as its own process on loopback (tests/gateway_stripe); the app is
ours, on a fresh SQLite file (or --db postgres), requests sent into the ASGI app. Each round
makes a new customer whose subscription is put ON_HOLD the real way (a card that Stripe
declines at renewal), then times the reactivation.

    .venv/bin/python scripts/measure_stripe_reactivation.py [--rounds 30] [--db postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.cli import migrate_database  # noqa: E402
from app.db import tortoise_config  # noqa: E402
from app.main import create_app  # noqa: E402
from services.businesses import create_business  # noqa: E402
from services.settings import Settings  # noqa: E402

SERVER = ROOT / "tests" / "gateway_stripe" / "localstripe_server.py"
SK, PK, WHSEC = "sk_test_measure", "pk_test_measure", "whsec_measure"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def payment_method(stripe: httpx.AsyncClient, number: str) -> str:
    made = await stripe.post(
        "/v1/payment_methods",
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        },
        auth=(SK, ""),
    )
    return str(made.json()["id"])


async def on_hold(
    http: httpx.AsyncClient, stripe: httpx.AsyncClient, key: str, n: int
) -> tuple[str, str]:
    """A customer and their subscription, ON_HOLD after Stripe declined its renewal."""
    customer = await gql(
        http,
        "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
        {"i": {"email": f"c{n}@example.com", "name": "Measured"}},
        key,
    )
    customer_id = customer["createCustomer"]["customer"]["id"]
    product = await gql(
        http,
        "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
        {"i": {"name": "Pro", "price": {"amount": 1500, "currency": "EUR"}, "interval": "MONTH"}},
        key,
    )
    subscribed = await gql(
        http,
        "mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) {"
        " subscription { id status } userErrors { code } } }",
        {
            "i": {
                "customerId": customer_id,
                "productId": product["createProduct"]["product"]["id"],
                "gatewayPaymentMethodId": await payment_method(stripe, "4242424242424242"),
            }
        },
        key,
    )
    subscription_id = subscribed["createSubscription"]["subscription"]["id"]
    link = await gql(
        http,
        "mutation($i: CreateCustomerPortalSessionInput!) { createCustomerPortalSession(input: $i)"
        " { portalSession { link } } }",
        {"i": {"customerId": customer_id}},
        key,
    )
    token = link["createCustomerPortalSession"]["portalSession"]["link"].rsplit("/", 1)[-1]
    signed = await http.post(
        "/graphql",
        json={
            "query": "mutation($i: SignInInput!) { signIn(input: $i) { sessionToken } }",
            "variables": {"i": {"token": token}},
        },
    )
    session = signed.json()["data"]["signIn"]["sessionToken"]
    # The card on file becomes one that Stripe declines when charged, then the renewal runs.
    swap = await gql(
        http,
        "mutation($i: UpdatePaymentMethodInput!) { updatePaymentMethod(input: $i)"
        " { userErrors { code } } }",
        {
            "i": {
                "subscriptionId": subscription_id,
                "gatewayPaymentMethodId": await payment_method(stripe, "4000000000000341"),
            }
        },
        session,
    )
    assert swap["updatePaymentMethod"]["userErrors"] == [], swap
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await gql(
        http,
        "mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i)"
        " { userErrors { code } } }",
        {"i": {"subscriptionId": subscription_id, "nextBillingDate": past}},
        key,
    )
    await gql(http, "mutation { runBillingCycle { failedCount } }", {}, key)
    return subscription_id, session


def start_localstripe() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own script, our interpreter)
        [sys.executable, str(SERVER), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{url}/js.stripe.com/v3/", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("localstripe did not start")


async def main(args: argparse.Namespace, stripe_url: str) -> None:
    directory = tempfile.mkdtemp(prefix="measure-")
    pg_name = None
    try:
        if args.db == "sqlite":
            url = f"sqlite://{directory}/portal.sqlite3"
        else:
            import asyncpg

            pg_name = f"measure_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await admin.execute(f'CREATE DATABASE "{pg_name}"')
            await admin.close()
            url = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
        await migrate_database(url)
        settings = Settings(
            database_url=url,
            public_url="http://portal.test",
            secret_key="measure-" + "x" * 40,
            var_dir=Path(directory) / "var",
            run_workers=False,
            stripe_api_base=stripe_url,
            stripe_js_url=f"{stripe_url}/js.stripe.com/v3/",
        )
        await Tortoise.init(config=tortoise_config(url))
        business = await create_business("Measure GmbH", "support@measure.example", "de")
        key = business.test_api_key
        app = create_app(settings, manage_orm=False)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http,
            httpx.AsyncClient(base_url=stripe_url, timeout=10) as stripe,
        ):
            configured = await gql(
                http,
                "mutation($i: ConfigurePaymentGatewayInput!) { configurePaymentGateway(input: $i)"
                " { userErrors { code } } }",
                {
                    "i": {
                        "provider": "STRIPE",
                        "secretKey": SK,
                        "publishableKey": PK,
                        "webhookSecret": WHSEC,
                    }
                },
                key,
            )
            assert configured["configurePaymentGateway"]["userErrors"] == []
            timings = []
            for n in range(args.rounds):
                subscription_id, session = await on_hold(http, stripe, key, n)
                new_card = await payment_method(stripe, "4242424242424242")
                started = time.perf_counter()
                data = await gql(
                    http,
                    "mutation($i: UpdatePaymentMethodInput!) { updatePaymentMethod(input: $i) {"
                    " subscription { status } payment { status } userErrors { code } } }",
                    {"i": {"subscriptionId": subscription_id, "gatewayPaymentMethodId": new_card}},
                    session,
                )
                timings.append((time.perf_counter() - started) * 1000)
                result = data["updatePaymentMethod"]
                assert result["subscription"]["status"] == "ACTIVE", result
                assert result["payment"]["status"] == "SUCCEEDED", result
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"on-session reactivation with Stripe (localstripe), {args.db}, {len(timings)} rounds:"
            f" median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms,"
            f" min {timings[0]:.1f} ms, max {timings[-1]:.1f} ms"
        )
    finally:
        await Tortoise.close_connections()
        if pg_name:
            import asyncpg

            admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    localstripe, address = start_localstripe()
    try:
        asyncio.run(main(parser.parse_args(), address))
    finally:
        localstripe.terminate()
        localstripe.wait(timeout=10)
