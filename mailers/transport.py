"""Delivery: SMTP in production, .eml files in an outbox directory during development."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from .message import EmailMessage

logger = logging.getLogger("portal.mail")

_TRUE = {"1", "true", "yes", "on"}
# An SMTP reply may quote part of the rejected message; keep error texts short.
_MAX_REASON = 200


class DeliveryError(Exception):
    """The message could not be handed over. A temporary failure is retried later; a
    `permanent` one (the server refused the recipient or the message for good, or cannot take
    a non-ASCII address) is not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def deliverable_address(address: str) -> str:
    """The recipient as an SMTP server without SMTPUTF8 can take it when that is possible: an
    internationalized domain in its ASCII (IDNA) form. A non-ASCII local part stays as it is
    and needs SMTPUTF8, which aiosmtplib asks for when the server offers it."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    return checked.ascii_email or checked.normalized


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return True  # e.g. a non-ASCII address and no SMTPUTF8: asking again will not help
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refused.code < 600 for refused in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


class MailTransport(Protocol):
    async def send(self, message: EmailMessage, message_id_domain: str) -> None: ...


class SMTPTransport:
    """Sends through one SMTP server given as a URL.

    smtp://host:port, smtp://user:pass@host:port (AUTH), smtps://... (implicit TLS, port 465 by
    default), smtp://...?starttls=1 (STARTTLS required). User and password are percent-decoded.
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("SMTP URL has no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("SMTP URL has an invalid port") from None
        query = parse_qs(parts.query)
        starttls = query.get("starttls", [""])[-1].strip().lower() in _TRUE
        if scheme == "smtps" and starttls:
            raise ValueError("smtps:// already uses TLS; drop ?starttls=1")

        self.hostname: str = parts.hostname
        self.use_tls: bool = scheme == "smtps"
        self.start_tls: bool = starttls
        self.port: int = port or (465 if self.use_tls else 25)
        self.username: str | None = unquote(parts.username) if parts.username else None
        self._password: str | None = (
            unquote(parts.password or "") if self.username is not None else None
        )
        self.timeout = timeout

    def __repr__(self) -> str:
        scheme = "smtps" if self.use_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        tls = "?starttls=1" if self.start_tls else ""
        return f"<SMTPTransport {scheme}://{user}{self.hostname}:{self.port}{tls}>"

    async def send(self, message: EmailMessage, message_id_domain: str) -> None:
        mime = message.to_mime(message_id_domain)
        recipient = deliverable_address(message.to)
        if recipient != message.to:
            mime.replace_header("To", recipient)
        try:
            await aiosmtplib.send(
                mime,
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self._password,
                use_tls=self.use_tls,
                # Without ?starttls=1 the connection stays as configured instead of upgrading
                # opportunistically, which fails on local relays with self-signed certificates.
                start_tls=self.start_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(
                f"SMTP delivery via {self.hostname}:{self.port} failed: {_reason(exc)}",
                permanent=_permanent(exc),
            ) from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = ", ".join(str(r.code) for r in exc.recipients)
        reason = f"recipient refused ({codes})"
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        reason = f"{exc.code} {exc.message}"
    else:
        reason = str(exc) or type(exc).__name__
    reason = " ".join(reason.split())
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 1] + "…"
    return f"{type(exc).__name__}: {reason}"


class FileTransport:
    """Writes each message as an .eml file, so development needs no SMTP, and its text part
    beside it as a .txt file to read the links from. The log names the files, never the links:
    a link's token must not reach a log."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"<FileTransport {self.directory}>"

    async def send(self, message: EmailMessage, message_id_domain: str) -> None:
        data = message.to_mime(message_id_domain).as_bytes()
        try:
            path = await asyncio.to_thread(self._write, data, message.text.encode())
        except OSError as exc:
            raise DeliveryError(f"writing to outbox {self.directory} failed: {exc}") from exc
        logger.info(
            "mail to %s: %s (%s; the text with its links: %s)",
            message.to,
            message.subject,
            path,
            path.with_suffix(".txt"),
        )

    def _write(self, data: bytes, text: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{secrets.token_hex(4)}.eml"
        path = self.directory / name
        # Dot-prefixed and not ending in .eml, so anything watching the outbox skips it.
        tmp = self.directory / f".{name}.tmp"
        try:
            with open(tmp, "xb") as handle:
                handle.write(text)
            os.replace(tmp, path.with_suffix(".txt"))
            with open(tmp, "xb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path


def transport_from_url(smtp_url: str | None, outbox_dir: Path) -> MailTransport:
    """SMTP when a URL is configured, otherwise the development outbox."""
    if smtp_url and smtp_url.strip():
        return SMTPTransport(smtp_url)
    return FileTransport(outbox_dir)
