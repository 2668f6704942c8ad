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


def check_return_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(value) > 2000:
        raise ServiceError(
            "returnUrl must be an absolute http(s) URL.", code="INVALID_URL", field=["returnUrl"]
        )
    return value
