"""Signed, short-lived links to invoice PDFs, usable without a header (e.g. from an email)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import TYPE_CHECKING

from models.clock import now
from services.crypto import derive_key

if TYPE_CHECKING:
    from services.settings import Settings

VALID_FOR = timedelta(minutes=15)


def _signature(settings: Settings, invoice_id: str, expires: int) -> str:
    key = derive_key(settings.secret_key, "invoice-pdf-link")
    return hmac.new(key, f"{invoice_id}|{expires}".encode(), hashlib.sha256).hexdigest()


def signed_pdf_url(settings: Settings, invoice_id: str) -> str:
    expires = int((now() + VALID_FOR).timestamp())
    signature = _signature(settings, invoice_id, expires)
    return (
        f"{settings.public_url}/invoices/{invoice_id}.pdf?expires={expires}&signature={signature}"
    )


def verify_pdf_signature(settings: Settings, invoice_id: str, expires: str, signature: str) -> bool:
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    if int(expires) < now().timestamp():
        return False
    return hmac.compare_digest(_signature(settings, invoice_id, int(expires)), signature)
