"""Getting into the portal: login links, merchant portal links, sign-in and sign-out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models import Customer, Mode
from models.clock import now
from resolvers.context import Context
from services.access import links, sessions
from services.customers import get_customer
from services.errors import LinkExpired
from services.scope import Scope
from services.validation import normalize_email


@dataclass(frozen=True)
class SignedIn:
    """signIn's outcome: a session, or the LINK_EXPIRED error with the link's business when
    the token was one of ours (the page offers a new link there)."""

    token: str | None
    expires_at: datetime | None
    customer: Customer | None
    return_url: str | None
    business_id: str | None
    error: LinkExpired | None = None


async def request_login_link(ctx: Context, *, business_id: str, email: str, mode: Mode) -> None:
    settings = ctx.settings
    # Limits first, for known and unknown addresses alike: the answer must not differ.
    await ctx.limiter.check(settings.rate_limit_login_ip, "login-ip", ctx.client_ip)
    email = normalize_email(email)
    await ctx.limiter.check(
        settings.rate_limit_login_email, "login-email", f"{business_id}|{mode}|{email.casefold()}"
    )
    await links.request_login_link(settings, business_id=business_id, email=email, mode=mode)


async def create_portal_session(
    ctx: Context, *, customer_id: str, send_email: bool, return_url: str | None
) -> links.IssuedLink:
    scope = ctx.merchant_scope()
    return await links.create_portal_link(
        ctx.settings, scope, customer_id=customer_id, send_email=send_email, return_url=return_url
    )


async def sign_in(ctx: Context, *, token: str, mode: Mode | None) -> SignedIn:
    try:
        session = await links.sign_in(ctx.settings, token, mode)
    except LinkExpired as expired:
        return SignedIn(None, None, None, None, expired.business_id, error=expired)
    jwt_token = sessions.issue_session_token(ctx.settings, session)
    customer = await get_customer(
        Scope(session.business_id, session.mode, session.customer_id),
        session.customer_id,
    )
    set_session_cookie(ctx, jwt_token, session.expires_at)
    return SignedIn(
        jwt_token, session.expires_at, customer, session.return_url, session.business_id
    )


async def sign_out(ctx: Context) -> None:
    scope = ctx.customer_scope()
    assert ctx.principal.session_id is not None
    await sessions.revoke_session(scope, ctx.principal.session_id)
    response: Any = ctx.response
    if response is not None:
        response.delete_cookie(SESSION_COOKIE, path="/")


async def confirm_email_change(ctx: Context, *, token: str, mode: Mode | None) -> Customer:
    return await links.confirm_email_change(ctx.settings, token, mode)


SESSION_COOKIE = "portal_session"


def set_session_cookie(ctx: Context, token: str, expires_at: datetime) -> None:
    response: Any = ctx.response
    if response is None:
        return
    max_age = max(int((expires_at - now()).total_seconds()), 0)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies,
    )
