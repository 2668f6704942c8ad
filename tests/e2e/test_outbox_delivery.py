"""The outbox: an email is written with the change that causes it and delivered afterwards by a
worker pass against a real SMTP server. A server that is down delays mail, it does not lose it
or fail the request; no message goes out twice; no one-time link sits readable in the
database."""

from __future__ import annotations

import asyncio
import string
from datetime import timedelta

from tortoise import connections

from conftest import Portal
from models import OutboxKind, OutboxMessage, OutboxStatus
from models.clock import clock
from services.businesses import NewBusiness
from services.outbox import MAX_ATTEMPTS
from support import (
    CREATE_PORTAL_SESSION,
    MailCatcher,
    create_customer,
    deliver_mail,
    link_in,
    token_of,
)


async def invite(portal: Portal, key: str, customer_id: str) -> str:
    """The merchant emails the customer a portal link; returns the link the API answered."""
    data = await portal.gql(
        CREATE_PORTAL_SESSION, {"input": {"customerId": customer_id, "sendEmail": True}}, token=key
    )
    payload = data["createCustomerPortalSession"]
    assert payload["userErrors"] == [], payload
    return str(payload["portalSession"]["link"])


URLSAFE_BASE64 = set(string.ascii_letters + string.digits + "-_=")
TABLE_DUMPS = {
    "outbox_message": "SELECT * FROM outbox_message",
    "login_link": "SELECT * FROM login_link",
}


async def all_rows_as_text(table: str) -> str:
    """Every column of every row, as the database holds them."""
    rows = await connections.get("default").execute_query_dict(TABLE_DUMPS[table])
    return repr(rows)


async def test_smtp_down_then_up_delivers_once_after_the_backoff(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    clock.freeze()
    customer_id = await create_customer(portal.gql, acme.test_api_key, "wes@example.com", "Wes")
    smtp.stop()

    link = await invite(portal, acme.test_api_key, customer_id)  # the request itself succeeds
    assert link.startswith("http://portal.test/test/session/")
    assert await deliver_mail(portal.settings) == 0

    [row] = await OutboxMessage.filter(kind=OutboxKind.EMAIL)
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error and "SMTP delivery via 127.0.0.1" in row.last_error
    assert row.recipient == "wes@example.com"
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)

    smtp.start()  # the same port again
    clock.advance(timedelta(seconds=29))
    assert await deliver_mail(portal.settings) == 0  # not due yet
    assert smtp.messages == []

    clock.advance(timedelta(seconds=2))
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.messages
    assert smtp.to("wes@example.com") == [mail]
    assert link_in(mail) == link

    assert await deliver_mail(portal.settings) == 0
    clock.advance(timedelta(days=1))
    assert await deliver_mail(portal.settings) == 0
    assert len(smtp.messages) == 1

    await row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2
    assert row.last_error is None
    assert row.payload is None
    assert row.sent_at is not None


async def test_backoff_grows_and_gives_up_after_the_last_attempt(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    clock.freeze()
    customer_id = await create_customer(portal.gql, acme.test_api_key, "xia@example.com")
    smtp.stop()
    await invite(portal, acme.test_api_key, customer_id)

    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await deliver_mail(portal.settings) == 0
        [row] = await OutboxMessage.filter(kind=OutboxKind.EMAIL)
        assert row.attempts == attempt
        delays.append(row.next_attempt_at - clock.now())
        clock.advance(row.next_attempt_at - clock.now())
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == timedelta(hours=6)
    assert row.status == OutboxStatus.DEAD
    assert row.last_error

    # A dead message stays on record and is not sent later by surprise.
    smtp.start()
    clock.advance(timedelta(days=7))
    assert await deliver_mail(portal.settings) == 0
    assert smtp.messages == []


async def test_outbox_never_holds_the_link_token_in_plaintext(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "yan@example.com", "Yan")
    link = await invite(portal, acme.test_api_key, customer_id)
    token = token_of(link)

    [row] = await OutboxMessage.filter(kind=OutboxKind.EMAIL)
    assert row.payload  # sealed, but there
    assert token not in row.payload
    stored = await all_rows_as_text("outbox_message")
    assert token not in stored and link not in stored
    # The whole body is sealed, not just the link: opaque URL-safe base64, no text, no URL.
    assert set(row.payload) <= URLSAFE_BASE64, row.payload[:80]
    # Nor does the link table keep the token itself.
    assert token not in await all_rows_as_text("login_link")

    assert await deliver_mail(portal.settings) == 1
    assert link_in(smtp.messages[0]) == link
    await row.refresh_from_db()
    assert row.payload is None
    assert token not in await all_rows_as_text("outbox_message")


async def test_two_concurrent_passes_send_each_message_exactly_once(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    links = set()
    for index in range(5):
        customer_id = await create_customer(
            portal.gql, acme.test_api_key, f"zoe{index}@example.com"
        )
        links.add(await invite(portal, acme.test_api_key, customer_id))
    assert (
        await OutboxMessage.filter(kind=OutboxKind.EMAIL, status=OutboxStatus.PENDING).count() == 5
    )

    first, second = await asyncio.gather(
        deliver_mail(portal.settings), deliver_mail(portal.settings)
    )
    assert first + second == 5
    assert len(smtp.messages) == 5
    assert {link_in(mail) for mail in smtp.messages} == links
    assert sorted(str(mail["To"]) for mail in smtp.messages) == [
        f"zoe{index}@example.com" for index in range(5)
    ]
    assert len({str(mail["Message-ID"]) for mail in smtp.messages}) == 5

    assert (
        await OutboxMessage.filter(
            kind=OutboxKind.EMAIL, status=OutboxStatus.SENT, attempts=1
        ).count()
        == 5
    )
    again = await asyncio.gather(deliver_mail(portal.settings), deliver_mail(portal.settings))
    assert again == [0, 0]
    assert len(smtp.messages) == 5


async def _outbox_of(address: str) -> OutboxMessage:
    [row] = await OutboxMessage.filter(kind=OutboxKind.EMAIL, recipient=address)
    return row


async def test_international_addresses_are_delivered_or_fail_once_and_for_good(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    """Decision: internationalized addresses are accepted. An ASCII mailbox at an IDN domain
    goes out with the domain's IDNA form (any server takes it); a non-ASCII mailbox needs
    SMTPUTF8, and a server without it is a permanent failure: the message is DEAD after one
    attempt instead of being retried for days."""
    key = acme.test_api_key
    idn_domain = await create_customer(portal.gql, key, "anna@bücher.example", "Anna")
    utf8_mailbox = await create_customer(portal.gql, key, "jürgen@bücher.example", "Jürgen")
    for customer_id in (idn_domain, utf8_mailbox):
        await invite(portal, key, customer_id)

    assert smtp.smtputf8 is False  # the default test server offers no SMTPUTF8
    assert await deliver_mail(portal.settings) == 1
    assert smtp.envelopes == [["anna@xn--bcher-kva.example"]]
    assert link_in(smtp.messages[0]).startswith("http://portal.test/test/session/")
    failed = await _outbox_of("jürgen@bücher.example")
    assert failed.status == OutboxStatus.DEAD and failed.attempts == 1
    assert "SMTPUTF8" in (failed.last_error or "")
    clock.advance(timedelta(days=5))
    assert await deliver_mail(portal.settings) == 0  # never tried again

    # A server that offers SMTPUTF8 takes the non-ASCII mailbox as it is.
    smtp.stop()
    utf8 = MailCatcher(smtputf8=True)
    utf8.start()
    try:
        await invite(portal, key, utf8_mailbox)
        assert await deliver_mail(portal.with_settings(smtp_url=utf8.url)) == 1
        assert utf8.envelopes == [["jürgen@bücher.example"]]
        assert str(utf8.messages[0]["To"]) == "jürgen@bücher.example"
    finally:
        utf8.stop()


async def test_a_recipient_refused_for_good_is_not_retried(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "gone@example.com")
    smtp.refuse.add("gone@example.com")
    await invite(portal, acme.test_api_key, customer_id)
    assert await deliver_mail(portal.settings) == 0
    row = await _outbox_of("gone@example.com")
    assert row.status == OutboxStatus.DEAD and row.attempts == 1
    assert "550" in (row.last_error or "")
