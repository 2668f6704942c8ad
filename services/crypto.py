"""Tokens, their hashes, and encryption of the little secret data we must keep."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What we store instead of a token or an API key. The tokens are 256-bit random, so a fast
    hash is enough: there is nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=64)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """A separate key per purpose, so one use of the secret never signs for another. Kept once
    derived: a dashboard signs a link per invoice."""
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


class SecretBox:
    """Symmetric encryption for data at rest (outbox payloads, webhook secrets)."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "secret-box")))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("sealed data was made with another secret key") from exc
