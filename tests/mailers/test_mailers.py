from __future__ import annotations

import asyncio
import email
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailers import (
    DeliveryError,
    EmailMessage,
    FileTransport,
    SMTPTransport,
    email_change_confirmation,
    email_changed_notice,
    login_link,
    normalize_locale,
    portal_invitation,
    transport_from_url,
)

LINK = "https://portal.example.test/login?token=abc123&next=%2F"
EXPIRES = datetime(2030, 3, 4, 15, 30, tzinfo=UTC)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CollectingHandler:
    def __init__(self, reply: str = "250 OK") -> None:
        self.reply = reply
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return self.reply


def start_server(handler: CollectingHandler, **kwargs: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def smtp_server() -> Iterator[tuple[CollectingHandler, int]]:
    handler = CollectingHandler()
    controller, port = start_server(handler)
    try:
        yield handler, port
    finally:
        controller.stop()


def make_login_link(locale: str = "en", **overrides: Any) -> EmailMessage:
    args: dict[str, Any] = {
        "to": "ada@example.test",
        "customer_name": "Ada Lovelace",
        "business_name": "Acme Coffee",
        "support_email": "help@acme.test",
        "link": LINK,
        "expires_at": EXPIRES,
        "from_addr": "Acme Coffee <portal@acme.test>",
        "locale": locale,
    }
    args.update(overrides)
    return login_link(**args)


def parts(mime: Message) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in mime.walk():
        if part.get_content_maintype() == "text":
            found[part.get_content_type()] = part.get_content()  # type: ignore[attr-defined]
    return found


def parse(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=default_policy)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("locale", "subject"),
    [
        ("en", "Your sign-in link for Acme Coffee customer portal"),
        ("de", "Ihr Anmeldelink für das Kundenportal von Acme Coffee"),
    ],
)
async def test_smtp_delivers_login_link(
    smtp_server: tuple[CollectingHandler, int], locale: str, subject: str
) -> None:
    handler, port = smtp_server
    transport = SMTPTransport(f"smtp://127.0.0.1:{port}")

    await transport.send(make_login_link(locale), "acme.test")

    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "portal@acme.test"
    assert envelope.rcpt_tos == ["ada@example.test"]
    received = parse(envelope.content)
    assert received.get_content_type() == "multipart/alternative"
    assert received["Subject"] == subject
    assert received["Reply-To"] == "help@acme.test"
    assert received["Message-ID"].endswith("@acme.test>")
    assert received["Date"]
    body = parts(received)
    assert list(body) == ["text/plain", "text/html"]
    assert LINK in body["text/plain"]
    assert 'href="https://portal.example.test/login?token=abc123&amp;next=%2F"' in body["text/html"]
    assert f'lang="{locale}"' in body["text/html"]


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_smtp_login_with_credentials() -> None:
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"p@ss:word")

    handler = CollectingHandler()
    controller, port = start_server(
        handler, authenticator=authenticator, auth_require_tls=False, auth_required=True
    )
    try:
        transport = SMTPTransport(f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{port}")
        await transport.send(make_login_link(), "acme.test")
    finally:
        controller.stop()
    assert seen == [(b"mailer", b"p@ss:word")]
    assert len(handler.envelopes) == 1


@pytest.mark.asyncio
async def test_smtp_closed_port_raises_delivery_error_quickly() -> None:
    transport = SMTPTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    started = time.monotonic()
    with pytest.raises(DeliveryError):
        await transport.send(make_login_link(), "acme.test")
    assert time.monotonic() - started < 5


@pytest.mark.asyncio
async def test_smtp_rejection_error_does_not_contain_body() -> None:
    handler = CollectingHandler(reply="554 5.6.0 Message rejected")
    controller, port = start_server(handler)
    try:
        transport = SMTPTransport(f"smtp://127.0.0.1:{port}")
        message = make_login_link()
        with pytest.raises(DeliveryError) as info:
            await transport.send(message, "acme.test")
    finally:
        controller.stop()
    text = str(info.value)
    assert "554" in text
    assert "abc123" not in text
    assert "Ada" not in text


def test_smtp_url_parsing() -> None:
    plain = SMTPTransport("smtp://mail.example.test:2525")
    assert (plain.hostname, plain.port, plain.use_tls, plain.start_tls) == (
        "mail.example.test",
        2525,
        False,
        False,
    )
    assert plain.username is None

    implicit = SMTPTransport("smtps://u:secret@mail.example.test")
    assert (implicit.port, implicit.use_tls, implicit.username) == (465, True, "u")
    assert "secret" not in repr(implicit)

    starttls = SMTPTransport("smtp://mail.example.test:587?starttls=1")
    assert (starttls.port, starttls.use_tls, starttls.start_tls) == (587, False, True)
    assert SMTPTransport("smtp://mail.example.test").port == 25

    for bad in ("http://mail.example.test", "smtp://", "smtps://h?starttls=1", "smtp://h:x"):
        with pytest.raises(ValueError):
            SMTPTransport(bad)


@pytest.mark.asyncio
async def test_file_transport_writes_eml_and_logs_link(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = tmp_path / "outbox" / "nested"
    transport = FileTransport(outbox)
    message = make_login_link("de")

    with caplog.at_level(logging.INFO, logger="portal.mail"):
        await transport.send(message, "acme.test")
        await asyncio.gather(*(transport.send(message, "acme.test") for _ in range(3)))

    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 4
    assert sorted(f.stem for f in outbox.glob("*.txt")) == [f.stem for f in files]
    assert LINK in files[0].with_suffix(".txt").read_text()
    parsed = parse(files[0].read_bytes())
    assert parsed["Subject"] == message.subject
    assert parsed["To"] == "ada@example.test"
    assert LINK in parts(parsed)["text/plain"]

    records = [r for r in caplog.records if r.name == "portal.mail"]
    assert all(r.levelno == logging.INFO for r in records)
    messages = [r.getMessage() for r in records]
    text_file = files[0].with_suffix(".txt")
    assert (
        f"mail to ada@example.test: {message.subject} ({files[0]}; the text with its links: "
        f"{text_file})"
    ) in messages
    # The link's token never reaches the log.
    assert not any(LINK in m or "abc123" in m for m in messages)


def test_transport_from_url(tmp_path: Path) -> None:
    assert isinstance(transport_from_url("smtp://localhost:25", tmp_path), SMTPTransport)
    assert isinstance(transport_from_url(None, tmp_path), FileTransport)
    assert isinstance(transport_from_url("", tmp_path), FileTransport)


def test_html_escapes_interpolated_values() -> None:
    message = make_login_link(customer_name="<script>alert(1)</script>", business_name="A & B")
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "A &amp; B" in message.html
    # The text part is not HTML, so the name appears as given.
    assert "<script>alert(1)</script>" in message.text

    notice = email_changed_notice(
        to="old@example.test",
        customer_name=None,
        business_name="Acme",
        support_email="help@acme.test",
        new_email='"><img src=x>@evil.test',
        from_addr="portal@acme.test",
        locale="en",
    )
    assert "<img" not in notice.html


def test_rejects_non_http_links() -> None:
    with pytest.raises(ValueError):
        make_login_link(link="javascript:alert(1)")


@pytest.mark.parametrize(
    ("given", "expected"),
    [("de", "de"), ("de-DE", "de"), ("DE_at", "de"), ("en", "en"), ("fr", "en"), ("", "en")],
)
def test_normalize_locale(given: str, expected: str) -> None:
    assert normalize_locale(given) == expected


def test_locale_fallback_and_expiry_format() -> None:
    english = make_login_link("en")
    assert make_login_link("fr").text == english.text
    assert "UTC" in english.text
    assert "2030" in english.text
    german = make_login_link("de-DE")
    assert german.subject.startswith("Ihr Anmeldelink")
    assert "04.03.2030, 15:30:00 UTC" in german.text
    assert "Guten Tag Ada Lovelace," in german.text


def test_naive_expiry_is_taken_as_utc() -> None:
    naive = make_login_link("de", expires_at=datetime(2030, 3, 4, 15, 30))
    assert "04.03.2030, 15:30:00 UTC" in naive.text


def test_all_messages_in_both_languages() -> None:
    link_args: dict[str, Any] = {
        "to": "ada@example.test",
        "customer_name": None,
        "business_name": "Acme Coffee",
        "support_email": "help@acme.test",
        "link": LINK,
        "expires_at": EXPIRES,
        "from_addr": "portal@acme.test",
    }
    subjects = {
        ("en", portal_invitation): "Acme Coffee invites you to your customer portal",
        ("de", portal_invitation): "Acme Coffee lädt Sie zu Ihrem Kundenportal ein",
        ("en", email_change_confirmation): "Please confirm your new email address for Acme Coffee",
        ("de", email_change_confirmation): (
            "Bitte bestätigen Sie Ihre neue E-Mail-Adresse bei Acme Coffee"
        ),
    }
    for (locale, build), subject in subjects.items():
        message = build(**link_args, locale=locale)
        assert message.subject == subject
        assert LINK in message.text
        assert message.reply_to == "help@acme.test"
        assert message.text.startswith("Hello," if locale == "en" else "Guten Tag,")

    for locale, subject in [
        ("en", "Your email address at Acme Coffee has been changed"),
        ("de", "Ihre E-Mail-Adresse bei Acme Coffee wurde geändert"),
    ]:
        notice = email_changed_notice(
            to="old@example.test",
            customer_name="Ada",
            business_name="Acme Coffee",
            support_email="help@acme.test",
            new_email="new@example.test",
            from_addr="portal@acme.test",
            locale=locale,
        )
        assert notice.subject == subject
        assert notice.to == "old@example.test"
        assert "new@example.test" in notice.text
        assert "help@acme.test" in notice.text
        assert 'href="mailto:help@acme.test"' in notice.html


def test_subject_header_cannot_be_injected() -> None:
    message = make_login_link(business_name="Acme\r\nBcc: victim@example.test")
    mime = message.to_mime("acme.test")
    assert mime["Bcc"] is None
    assert "\n" not in message.subject
