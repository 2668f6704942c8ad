"""Input checks shared by several services: emails, phone numbers, URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.errors import ServiceError


def normalize_email(value: str, field: list[str] | None = None) -> str:
    """The address as it should be stored; INVALID_EMAIL when it is not one."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except (EmailNotValidError, AttributeError) as exc:
        raise ServiceError(
            "This is not a valid email address.", code="INVALID_EMAIL", field=field or ["email"]
        ) from exc
    return result.normalized


def email_key(email: str) -> str:
    """Emails are unique per business and mode, compared case-insensitively."""
    return email.casefold()


def normalize_phone(value: str, field: list[str] | None = None) -> str:
    """E.164 (`+4915123456789`); INVALID_PHONE_NUMBER otherwise."""
    error = ServiceError(
        "Enter the phone number in international format, e.g. +4915123456789.",
        code="INVALID_PHONE_NUMBER",
        field=field or ["phoneNumber"],
    )
    if not value.strip().startswith("+"):
        raise error
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise error from exc
    if not phonenumbers.is_valid_number(parsed):
        raise error
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def clean_name(value: str, field: list[str] | None = None, max_length: int = 200) -> str:
    cleaned = " ".join(value.split())
    if len(cleaned) > max_length:
        raise ServiceError(
            f"Use at most {max_length} characters.", code="TOO_LONG", field=field or ["name"]
        )
    return cleaned


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_return_url(value: str, field: list[str] | None = None) -> str:
    """Where the portal's "Back to …" link may go: an absolute https URL, or http on this
    machine (localhost, for a merchant's development setup). No credentials in it, no spaces
    or control characters, at most 2000 characters. Only ever taken from the merchant (their
    API key), never from a customer's request, so the link is no open redirect."""
    error = ServiceError(
        "Use an absolute https URL (http only for localhost), at most 2000 characters.",
        code="INVALID_URL",
        field=field or ["returnUrl"],
    )
    if len(value) > 2000 or any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in value):
        raise error
    parts = urlsplit(value)
    try:
        host = parts.hostname
        parts.port  # noqa: B018  (a malformed port raises)
    except ValueError as exc:
        raise error from exc
    if not host or parts.username is not None or parts.password is not None:
        raise error
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS):
        return value
    raise error
