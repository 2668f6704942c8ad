"""One webhook request: a signed POST to an address that `addresses` checked.

The request goes to the checked IP itself, with the endpoint's host in the Host header and in
TLS (SNI and certificate verification), so what was checked is what is connected to. Redirects
are not followed, proxies from the environment are not used, and connections are not kept
alive (a pooled connection is keyed by IP and could otherwise carry another host's request).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from services.webhooks.addresses import TargetRefused, resolve_target

TIMEOUT_SECONDS = 15.0
USER_AGENT = "customer-portal-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the HTTP status, when a response came
    error: str | None  # why there was no (successful) response
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(TIMEOUT_SECONDS),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"user-agent": USER_AGENT},
    )


async def post(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    allow_private: bool,
    require_https: bool,
) -> Outcome:
    """Never raises for network trouble: every failure is an Outcome with an error."""
    started = time.monotonic()

    def done(status: int | None, error: str | None) -> Outcome:
        return Outcome(status, error, int((time.monotonic() - started) * 1000))

    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            target = await resolve_target(
                url, allow_private=allow_private, require_https=require_https
            )
            last_error = "no address to connect to"
            for address in target.addresses:
                request = client.build_request(
                    "POST",
                    target.url_at(address),
                    content=body,
                    headers={**headers, "host": target.host_header},
                    extensions={"sni_hostname": target.hostname},
                )
                try:
                    response = await client.send(request, stream=True)
                except httpx.ConnectError as exc:
                    last_error = f"could not connect to {address}: {exc or type(exc).__name__}"
                    continue  # the host's next address, if it has one
                await response.aclose()  # the body does not matter; do not read it
                error = None if 200 <= response.status_code < 300 else "non-2xx response"
                return done(response.status_code, error)
            return done(None, last_error)
    except TargetRefused as exc:
        return done(None, f"refused: {exc}")
    except TimeoutError:
        return done(None, f"timed out after {TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as exc:
        return done(None, f"{type(exc).__name__}: {exc}"[:500])
