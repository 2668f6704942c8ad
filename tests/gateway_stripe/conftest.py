"""Stripe for real: localstripe (a Stripe API server) as a separate process on loopback, and
the portal served by uvicorn on a real port, so Stripe's webhooks reach it over HTTP.

localstripe answers like Stripe for the test cards: 4242… succeeds, 4000002760003184 and
4000002500003155 ask for 3-D Secure (the latter on every charge, also off-session),
4000000000000341 is declined when charged. Authentication is completed (or failed) through
its `_authenticate` call, which is what its Stripe.js does when the customer clicks in the
3-D Secure dialog. It sends payment_intent.succeeded / payment_failed webhooks one second
after the call that caused them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.main import create_app
from conftest import Portal
from services.businesses import NewBusiness
from services.settings import Settings
from support import GraphQLClient, free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
SERVER = Path(__file__).with_name("localstripe_server.py")

SECRET_KEY = "sk_test_portal4242"
PUBLISHABLE_KEY = "pk_test_portal4242"
WEBHOOK_SECRET = "whsec_portaltestsecret"

VISA = "4242424242424242"
THREE_DS = "4000002760003184"  # authentication on the first charge
THREE_DS_ALWAYS = "4000002500003155"  # authentication on every charge, off-session too
DECLINED_ON_CHARGE = "4000000000000341"  # saved fine, declined when charged
DECLINED_ON_SAVE = "4000000000009995"


class LocalStripe:
    """The localstripe process, restartable (a test stops it to see Stripe unreachable)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(SERVER), str(self.port)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/js.stripe.com/v3/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("localstripe did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    try:
        import localstripe as _  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("localstripe is not installed (pip install -e '.[test]')")
        pytest.skip("localstripe is not installed (pip install -e '.[test]')")
    server = LocalStripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    server.start()
    yield server
    server.stop()


@dataclass
class StripeLab:
    """Calls on localstripe that stand in for the customer's browser and Stripe's dashboard."""

    url: str
    http: httpx.AsyncClient

    async def _call(self, method: str, path: str, **data: Any) -> dict[str, Any]:
        response = await self.http.request(
            method, f"{self.url}{path}", data=data or None, auth=(SECRET_KEY, "")
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def payment_method(self, number: str) -> str:
        """What Stripe.js gives the page for a card: a PaymentMethod id."""
        made = await self._call(
            "POST",
            "/v1/payment_methods",
            **{
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
            },
        )
        return str(made["id"])

    async def intent(self, intent_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/payment_intents/{intent_id}")

    async def authenticate(self, client_secret: str, *, success: bool = True) -> None:
        """The customer completes (or fails) 3-D Secure in Stripe.js's dialog."""
        intent_id = client_secret.split("_secret_")[0]
        response = await self.http.post(
            f"{self.url}/v1/payment_intents/{intent_id}/_authenticate",
            data={
                "key": PUBLISHABLE_KEY,
                "client_secret": client_secret,
                "success": "true" if success else "false",
            },
        )
        assert response.status_code == 200, response.text

    async def finish_setup(self, client_secret: str) -> None:
        """The customer completes 3-D Secure for a card being saved (localstripe completes a
        SetupIntent waiting for it when it is confirmed again)."""
        setup_id = client_secret.split("_secret_")[0]
        await self._call("POST", f"/v1/setup_intents/{setup_id}/confirm")

    async def send_webhooks_to(self, url: str) -> None:
        response = await self.http.post(
            f"{self.url}/_config/webhooks/portal",
            data={
                "url": url,
                "secret": WEBHOOK_SECRET,
                "events[]": ["payment_intent.succeeded", "payment_intent.payment_failed"],
            },
        )
        assert response.status_code == 200, response.text


@pytest.fixture
async def stripe_lab(localstripe: LocalStripe) -> AsyncIterator[StripeLab]:
    if not localstripe.running:
        localstripe.start()
    async with httpx.AsyncClient(timeout=10) as http:
        # Each test starts with an empty Stripe (webhook registrations are replaced per test).
        await http.delete(f"{localstripe.url}/_config/data")
        yield StripeLab(localstripe.url, http)


@pytest.fixture
async def stripe_settings(settings: Settings, localstripe: LocalStripe) -> Settings:
    return replace(
        settings,
        stripe_api_base=localstripe.url,
        stripe_js_url=f"{localstripe.url}/js.stripe.com/v3/",
    )


@pytest.fixture
async def stripe_portal(stripe_settings: Settings) -> AsyncIterator[tuple[Portal, str]]:
    """The portal (an httpx client on the app) and the same app listening on a real port."""
    app = create_app(stripe_settings, manage_orm=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the portal did not start"
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Portal(stripe_settings, http, GraphQLClient(http)), url
    server.should_exit = True
    await serving


CONFIGURE = """
mutation($input: ConfigurePaymentGatewayInput!) {
  configurePaymentGateway(input: $input) {
    paymentGateway { provider publishableKey configuredAt }
    userErrors { code field message }
  }
}"""


@pytest.fixture
async def shop(
    stripe_portal: tuple[Portal, str], stripe_lab: StripeLab, acme: NewBusiness
) -> tuple[Portal, NewBusiness]:
    """Acme, its test mode on Stripe, with Stripe's webhooks pointed at it."""
    portal, url = stripe_portal
    data = await portal.gql(
        CONFIGURE,
        {
            "input": {
                "provider": "STRIPE",
                "secretKey": SECRET_KEY,
                "publishableKey": PUBLISHABLE_KEY,
                "webhookSecret": WEBHOOK_SECRET,
            }
        },
        token=acme.test_api_key,
    )
    assert data["configurePaymentGateway"]["userErrors"] == [], data
    await stripe_lab.send_webhooks_to(f"{url}/gateway/stripe/{acme.business.id}/webhook")
    return portal, acme
