"""Who is calling: an API key, a portal session (header or cookie), or nobody."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

from app.settings import Settings
from services.access.api_keys import authenticate_api_key
from services.access.principal import ANONYMOUS, INVALID, Principal, PrincipalKind
from services.access.sessions import (
    SessionClaims,
    authenticate_session_token,
    principal_of_session,
    verify_session_token,
)

SESSION_COOKIE = "portal_session"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""  # a malformed credential is a wrong one, not an absent one
    return token.strip()


def request_token(conn: HTTPConnection, *, allow_cookie: bool) -> str | None:
    """The request's credential: its bearer token, else (where allowed) its session cookie."""
    token = bearer_token(conn)
    if token is None and allow_cookie:
        token = conn.cookies.get(SESSION_COOKIE)
        if token is not None and not token:
            token = None
    return token


async def resolve_principal(
    settings: Settings, conn: HTTPConnection, *, allow_cookie: bool
) -> Principal:
    token = request_token(conn, allow_cookie=allow_cookie)
    if token is None:
        return ANONYMOUS
    return await principal_of_token(settings, token)


async def resolve_caller(
    settings: Settings, conn: HTTPConnection, *, allow_cookie: bool
) -> tuple[Principal, SessionClaims | None]:
    """As resolve_principal, except that a portal session's row is not read yet: a valid
    session token comes back as its claims, with a principal that may do nothing (INVALID)
    until the row is read (resolvers.context.Context.confirm_session, which GraphQL runs before
    anything but a compiled query that reads the row itself)."""
    token = request_token(conn, allow_cookie=allow_cookie)
    if token is None:
        return ANONYMOUS, None
    if token.startswith("sk_"):
        return await principal_of_token(settings, token), None
    return INVALID, verify_session_token(settings, token)


async def principal_of_token(settings: Settings, token: str) -> Principal:
    """A bearer token's principal: an API key's merchant, a session's customer, or INVALID."""
    if token.startswith("sk_"):
        key = await authenticate_api_key(token)
        if key is None:
            return INVALID
        return Principal(
            PrincipalKind.MERCHANT,
            business_id=key.business_id,
            mode=key.mode,
            api_key_id=key.id,
        )
    session = await authenticate_session_token(settings, token)
    return INVALID if session is None else principal_of_session(session)


@lru_cache(maxsize=8)
def _networks(proxies: frozenset[str]) -> tuple[IPNetwork, ...]:
    """PORTAL_TRUSTED_PROXIES as networks: single addresses or CIDR ranges."""
    networks = []
    for proxy in proxies:
        try:
            networks.append(ipaddress.ip_network(proxy, strict=False))
        except ValueError:
            continue  # refused by Settings.check; never trusted here
    return tuple(networks)


def _trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(settings: Settings, conn: HTTPConnection) -> str:
    """The peer address, or the first untrusted hop of X-Forwarded-For when the peer is one of
    PORTAL_TRUSTED_PROXIES. With none configured (the default) no header is believed."""
    peer = conn.client.host if conn.client else "unknown"
    networks = _networks(settings.trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = [
        hop.strip() for hop in conn.headers.get("x-forwarded-for", "").split(",") if hop.strip()
    ]
    for hop in reversed(forwarded):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        if not _trusted(hop, networks):
            return hop
    return peer
