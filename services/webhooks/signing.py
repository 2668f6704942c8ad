"""Standard Webhooks signatures (https://www.standardwebhooks.com): `whsec_` secrets and the
`webhook-id`, `webhook-timestamp`, `webhook-signature` headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format, not a secret
SECRET_BYTES = 24  # as Svix and Dodo issue them; the spec asks for 24 to 64 bytes


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_`."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def encode_body(payload: Any) -> bytes:
    """The request body; these exact bytes are signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    active_secrets: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> str:
    """One signature per secret, space-separated: during a rotation the receiver may still hold
    the old secret, and any one matching signature verifies."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in active_secrets)


def webhook_headers(
    active_secrets: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(active_secrets, message_id, timestamp, body),
    }
