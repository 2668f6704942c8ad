"""Portal sessions: an HS256 JWT whose `sid` points at a row, so that it can be revoked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from models import Mode, PortalSession
from models.clock import now
from services.access.principal import Principal, PrincipalKind
from services.crypto import derive_key
from services.scope import Scope
from services.sql import as_datetime, fetch_rows

if TYPE_CHECKING:
    from services.settings import Settings

ALGORITHM = "HS256"
AUDIENCE = "customer-portal"
REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "sub", "sid"]


def _key(settings: Settings) -> bytes:
    return derive_key(settings.secret_key, "portal-session-jwt")


def issue_session_token(settings: Settings, session: PortalSession) -> str:
    claims = {
        "iss": settings.jwt_issuer,
        "aud": AUDIENCE,
        "sub": session.customer_id,
        "sid": session.id,
        "iat": int(session.created_at.timestamp()),
        "exp": int(session.expires_at.timestamp()),
    }
    return jwt.encode(claims, _key(settings), algorithm=ALGORITHM)


@dataclass(frozen=True)
class LiveSession:
    """What a request needs of its portal session."""

    id: str
    business_id: str
    mode: Mode
    customer_id: str
    return_url: str | None


# Read on every request of a signed-in customer: written once rather than built by the ORM.
LIVE_SESSION = (
    "SELECT business_id, mode, return_url, expires_at FROM portal_session"
    " WHERE id = ? AND customer_id = ? AND revoked_at IS NULL"
)


@dataclass(frozen=True)
class SessionClaims:
    """A portal session token whose signature and times were checked: the session row it
    points at still has to be read (`confirm_session`)."""

    session_id: str
    customer_id: str


def verify_session_token(settings: Settings, token: str) -> SessionClaims | None:
    """The claims of a well-signed, unexpired session token, or None."""
    if len(token) > 2000:
        return None
    try:
        claims = jwt.decode(
            token,
            _key(settings),
            algorithms=[ALGORITHM],  # pinned: no "none", no algorithm confusion
            audience=AUDIENCE,
            issuer=settings.jwt_issuer,
            # Times are checked below against our clock (which tests can move), not PyJWT's.
            options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    sid, sub = claims.get("sid"), claims.get("sub")
    if not isinstance(sid, str) or not isinstance(sub, str):
        return None
    at = now().timestamp()
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        return None
    if exp <= at or iat > at + 60:
        return None
    return SessionClaims(sid, sub)


def live_session(
    session_id: str,
    customer_id: str,
    business_id: str,
    mode: str,
    return_url: str | None,
    expires_at: Any,
) -> LiveSession | None:
    """The session of a row found by (id, customer, not revoked), unless it has expired."""
    expires = as_datetime(expires_at)
    if expires is None or expires.timestamp() <= now().timestamp():
        return None
    return LiveSession(session_id, business_id, Mode(mode), customer_id, return_url)


async def confirm_session(claims: SessionClaims) -> LiveSession | None:
    """The live session the claims point at, or None (revoked, expired, gone)."""
    rows = await fetch_rows(LIVE_SESSION, [claims.session_id, claims.customer_id])
    if not rows:
        return None
    row = rows[0]
    return live_session(
        claims.session_id,
        claims.customer_id,
        row["business_id"],
        row["mode"],
        row["return_url"],
        row["expires_at"],
    )


def principal_of_session(session: LiveSession) -> Principal:
    return Principal(
        PrincipalKind.CUSTOMER,
        business_id=session.business_id,
        mode=session.mode,
        customer_id=session.customer_id,
        session_id=session.id,
        return_url=session.return_url,
    )


async def authenticate_session_token(settings: Settings, token: str) -> LiveSession | None:
    """The live session a token stands for, or None (bad signature, expired, revoked, …)."""
    claims = verify_session_token(settings, token)
    return None if claims is None else await confirm_session(claims)


async def revoke_session(scope: Scope, session_id: str) -> None:
    await PortalSession.filter(id=session_id, **scope.filters(), revoked_at__isnull=True).update(
        revoked_at=now()
    )
