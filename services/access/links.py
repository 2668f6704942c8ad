"""One-time links: sign-in from the static page, portal links made by the merchant, and email
confirmations. Tokens are 256-bit random, stored as SHA-256, usable once, and never logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import mailers
from models import Business, Customer, LinkPurpose, LoginLink, Mode, PortalSession
from models.clock import now
from services.crypto import new_token, token_hash
from services.customer_mail import email_customer
from services.customers import email_taken, find_customer_by_email, get_customer
from services.errors import LinkExpired
from services.events import customer_event
from services.outbox import enqueue_task, notify_worker
from services.scope import Scope
from services.validation import check_return_url, email_key, normalize_email

if TYPE_CHECKING:
    from services.settings import Settings

MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class IssuedLink:
    url: str
    expires_at: datetime


def _session_url(settings: Settings, mode: Mode, token: str) -> str:
    prefix = "/test" if mode == Mode.TEST else ""
    return f"{settings.public_url}{prefix}/session/{token}"


def _confirm_url(settings: Settings, mode: Mode, token: str) -> str:
    prefix = "/test" if mode == Mode.TEST else ""
    return f"{settings.public_url}{prefix}/confirm-email/{token}"


async def _new_link(
    customer: Customer,
    purpose: LinkPurpose,
    ttl_seconds: int,
    *,
    new_email: str | None = None,
    return_url: str | None = None,
) -> tuple[LoginLink, str]:
    token = new_token()
    link = await LoginLink.create(
        business_id=customer.business_id,
        mode=customer.mode,
        customer=customer,
        purpose=purpose,
        token_hash=token_hash(token),
        new_email=new_email,
        return_url=return_url,
        expires_at=now() + timedelta(seconds=ttl_seconds),
    )
    return link, token


LOGIN_REQUEST = "login_request"


async def request_login_link(
    settings: Settings, *, business_id: str, email: str, mode: Mode
) -> None:
    """Queues the request for the worker, which emails a sign-in link when the address belongs
    to a customer of the business and otherwise does nothing.

    The request does the same work whether or not the business or the customer exists (one
    write), so neither its answer nor its timing tells them apart.
    """
    email = normalize_email(email)
    await enqueue_task(
        settings.secret_key,
        LOGIN_REQUEST,
        {"business_id": business_id[:40], "email": email, "mode": mode.value},
    )
    notify_worker()


async def answer_login_request(settings: Settings, request: dict[str, str]) -> None:
    """The worker's half of `request_login_link`: the lookup, the link and the email."""
    business = await Business.get_or_none(id=request["business_id"])
    if business is None:
        return
    mode = Mode(request["mode"])
    customer = await find_customer_by_email(Scope(business.id, mode), request["email"])
    if customer is None:
        return
    async with in_transaction():
        link, token = await _new_link(
            customer, LinkPurpose.SIGN_IN, settings.login_link_ttl_seconds
        )
        await email_customer(
            settings,
            customer,
            business,
            mailers.login_link,
            topic="login_link",
            link=_session_url(settings, mode, token),
            expires_at=link.expires_at,
        )
    notify_worker()


async def create_portal_link(
    settings: Settings,
    scope: Scope,
    *,
    customer_id: str,
    send_email: bool = False,
    return_url: str | None = None,
) -> IssuedLink:
    """The merchant's magic link for one customer: one use, valid 24 hours."""
    if return_url is not None:
        return_url = check_return_url(return_url)
    async with in_transaction():
        customer = await get_customer(scope, customer_id)
        link, token = await _new_link(
            customer, LinkPurpose.PORTAL, settings.portal_link_ttl_seconds, return_url=return_url
        )
        url = _session_url(settings, scope.mode, token)
        if send_email:
            business = await Business.get(id=scope.business_id)
            await email_customer(
                settings,
                customer,
                business,
                mailers.portal_invitation,
                topic="portal_invitation",
                link=url,
                expires_at=link.expires_at,
            )
    if send_email:
        notify_worker()
    return IssuedLink(url=url, expires_at=link.expires_at)


async def issue_portal_link(settings: Settings, customer: Customer) -> IssuedLink:
    """A fresh portal link for an email we send ourselves (e.g. after a failed renewal). Call
    inside the transaction that enqueues the email."""
    link, token = await _new_link(customer, LinkPurpose.PORTAL, settings.portal_link_ttl_seconds)
    return IssuedLink(url=_session_url(settings, customer.mode, token), expires_at=link.expires_at)


async def _use_link(token: str, purposes: tuple[LinkPurpose, ...], mode: Mode | None) -> LoginLink:
    """Marks the link used, exactly once; anything else is LINK_EXPIRED, whatever the reason."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkExpired()
    at = now()
    link = await LoginLink.get_or_none(token_hash=token_hash(token))
    if link is None or link.purpose not in purposes or (mode is not None and link.mode != mode):
        raise LinkExpired()
    # A real link of this kind, used or out of date: its business may be told (the token
    # was sent to the customer; it says nothing about any other address).
    if link.used_at is not None or link.expires_at <= at:
        raise LinkExpired(link.business_id)
    # A conditional update: of two requests with the same token, exactly one wins.
    won = await LoginLink.filter(id=link.id, used_at__isnull=True).update(used_at=at)
    if won != 1:
        raise LinkExpired(link.business_id)
    return link


async def sign_in(settings: Settings, token: str, mode: Mode | None = None) -> PortalSession:
    """Exchanges a sign-in or portal link for a new portal session."""
    async with in_transaction():
        link = await _use_link(token, (LinkPurpose.SIGN_IN, LinkPurpose.PORTAL), mode)
        return await PortalSession.create(
            business_id=link.business_id,
            mode=link.mode,
            customer_id=link.customer_id,
            return_url=link.return_url,
            expires_at=now() + timedelta(seconds=settings.session_ttl_seconds),
        )


async def start_email_change(settings: Settings, customer: Customer, new_email: str) -> None:
    """Sends a confirmation link to the new address; the email changes once it is followed.

    Whether another customer already has the address is only checked on confirmation, so the
    portal does not tell a customer which addresses are in use.
    """
    business = await Business.get(id=customer.business_id)
    async with in_transaction():
        link, token = await _new_link(
            customer,
            LinkPurpose.CONFIRM_EMAIL,
            settings.email_confirmation_ttl_seconds,
            new_email=new_email,
        )
        await email_customer(
            settings,
            customer,
            business,
            mailers.email_change_confirmation,
            topic="email_change_confirmation",
            to=new_email,
            link=_confirm_url(settings, customer.mode, token),
            expires_at=link.expires_at,
        )
    notify_worker()


async def confirm_email_change(
    settings: Settings, token: str, mode: Mode | None = None
) -> Customer:
    try:
        customer = await _change_email(settings, token, mode)
    except IntegrityError as exc:  # another customer took the address at the same moment
        raise email_taken() from exc
    notify_worker()
    return customer


async def _change_email(settings: Settings, token: str, mode: Mode | None) -> Customer:
    async with in_transaction():
        link = await _use_link(token, (LinkPurpose.CONFIRM_EMAIL,), mode)
        customer = await Customer.get(id=link.customer_id)
        new_email = normalize_email(link.new_email or "")
        scope = Scope(customer.business_id, customer.mode)
        other = await find_customer_by_email(scope, new_email)
        if other is not None and other.id != customer.id:
            raise email_taken()
        old_email = customer.email
        customer.email = new_email
        customer.email_normalized = email_key(new_email)
        customer.updated_at = now()
        await customer.save(update_fields=["email", "email_normalized", "updated_at"])
        await customer_event("customer.updated", customer)
        business = await Business.get(id=customer.business_id)
        if email_key(old_email) != customer.email_normalized:
            await email_customer(
                settings,
                customer,
                business,
                mailers.email_changed_notice,
                topic="email_changed_notice",
                to=old_email,
                new_email=new_email,
            )
    return customer
