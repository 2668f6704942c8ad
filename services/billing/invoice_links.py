"""Signed, short-lived links to an invoice's documents (its PDF, its e-invoice XML), usable
without a header (e.g. from a download button). The signature names the invoice and the kind
of document: a PDF link does not open the XML."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from models.clock import now
from services.crypto import derive_key

if TYPE_CHECKING:
    from services.settings import Settings

VALID_FOR = timedelta(minutes=15)
Document = Literal["pdf", "xml"]


def _signature(settings: Settings, invoice_id: str, expires: int, document: Document) -> str:
    # The PDF's key purpose is the one links were first signed with.
    purpose = "invoice-pdf-link" if document == "pdf" else "invoice-xml-link"
    key = derive_key(settings.secret_key, purpose)
    return hmac.digest(key, f"{invoice_id}|{expires}".encode(), hashlib.sha256).hex()


def signed_url(settings: Settings, invoice_id: str, document: Document = "pdf") -> str:
    expires = int((now() + VALID_FOR).timestamp())
    signature = _signature(settings, invoice_id, expires, document)
    return (
        f"{settings.public_url}/invoices/{invoice_id}.{document}"
        f"?expires={expires}&signature={signature}"
    )


def signed_pdf_url(settings: Settings, invoice_id: str) -> str:
    return signed_url(settings, invoice_id, "pdf")


def verify_signature(
    settings: Settings, invoice_id: str, expires: str, signature: str, document: Document = "pdf"
) -> bool:
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    if int(expires) < now().timestamp():
        return False
    expected = _signature(settings, invoice_id, int(expires), document)
    return hmac.compare_digest(expected, signature)


def verify_pdf_signature(settings: Settings, invoice_id: str, expires: str, signature: str) -> bool:
    return verify_signature(settings, invoice_id, expires, signature, "pdf")
