"""Persisted GraphQL documents: Automatic Persisted Queries and trusted documents.

A client sends a document's SHA-256 (hex) in `extensions.persistedQuery.sha256Hash` instead of
its text. Automatic Persisted Queries (APQ): when the server does not know the hash it answers
PERSISTED_QUERY_NOT_FOUND, the client sends the text with its hash once, and the server
remembers it. The APQ store is an in-process LRU (any client can fill it, so it is bounded and
never written to the database); with several processes each learns a document once, which the
protocol's retry covers.

Trusted documents: a merchant registers the documents its frontend sends
(`registerTrustedDocuments`); with `PORTAL_TRUSTED_DOCUMENTS` on, /graphql executes only those,
by hash or by text. The hosted pages run their own operations inside the server, not through
/graphql, and are not affected.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import TypeGuard

from graphql import GraphQLError, parse
from tortoise.exceptions import IntegrityError

from models import TrustedDocument
from services.errors import ServiceError

# Always trusted: the document a deploy script sends to register the others, so that it works
# with PORTAL_TRUSTED_DOCUMENTS on (the merchant key still decides who may run it). Send it
# exactly as written here (README: "Persisted documents").
REGISTER_TRUSTED_DOCUMENTS = (
    "mutation RegisterTrustedDocuments($input: RegisterTrustedDocumentsInput!) {"
    " registerTrustedDocuments(input: $input) { documentIds userErrors { code field message } } }"
)
MAX_DOCUMENTS_PER_CALL = 100
MAX_DOCUMENT_CHARS = 64 * 1024


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def is_sha256_hex(value: object) -> TypeGuard[str]:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


class AutomaticPersistedQueries:
    """The APQ store of one process: the most recently used documents by hash."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self.documents: OrderedDict[str, str] = OrderedDict()

    def get(self, sha256: str) -> str | None:
        document = self.documents.get(sha256)
        if document is not None:
            self.documents.move_to_end(sha256)
        return document

    def put(self, sha256: str, document: str) -> None:
        """Remembers a document the client sent with its hash; the caller checked they match."""
        self.documents[sha256] = document
        self.documents.move_to_end(sha256)
        while len(self.documents) > self.capacity:
            self.documents.popitem(last=False)


class TrustedDocuments:
    """Registered documents by hash. A registration is never withdrawn, so what was found once
    is kept in memory; what was not found is asked again next time."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {
            sha256_hex(REGISTER_TRUSTED_DOCUMENTS): REGISTER_TRUSTED_DOCUMENTS
        }

    async def get(self, sha256: str) -> str | None:
        document = self.known.get(sha256)
        if document is None:
            row = await TrustedDocument.get_or_none(id=sha256)
            if row is not None:
                document = self.known[sha256] = row.document
        return document


async def register_trusted_documents(business_id: str, documents: Sequence[str]) -> list[str]:
    """Registers each document (checked to be GraphQL syntax) for the business; returns their
    SHA-256 hashes in the order given. Registering a document again changes nothing."""
    if not documents:
        raise ServiceError("Give at least one document.", code="INVALID_DOCUMENT")
    if len(documents) > MAX_DOCUMENTS_PER_CALL:
        raise ServiceError(
            f"At most {MAX_DOCUMENTS_PER_CALL} documents per call.", code="TOO_MANY_DOCUMENTS"
        )
    hashes = []
    for index, document in enumerate(documents):
        where = ["documents", str(index)]
        if len(document) > MAX_DOCUMENT_CHARS:
            raise ServiceError(
                f"A document has at most {MAX_DOCUMENT_CHARS} characters.",
                code="TOO_LONG",
                field=where,
            )
        try:
            parse(document)
        except GraphQLError:
            raise ServiceError(
                "This is not a GraphQL document.", code="INVALID_DOCUMENT", field=where
            ) from None
        hashes.append(sha256_hex(document))
    rows = await TrustedDocument.filter(id__in=hashes).values_list("id", flat=True)
    known: set[str] = {str(row) for row in rows}
    for sha256, document in zip(hashes, documents, strict=True):
        if sha256 in known:
            continue
        # Registered at the same moment by another request: the same document.
        with contextlib.suppress(IntegrityError):
            await TrustedDocument.create(id=sha256, document=document, business_id=business_id)
        known.add(sha256)
    return hashes
