"""Persisted documents at the /graphql edge (services/persisted_documents.py says what they
are): a request that names its document by `extensions.persistedQuery.sha256Hash` gets the text
filled in before Strawberry sees it, and with trusted documents on, a request whose document is
not registered is refused before anything runs.

Errors follow the APQ protocol that Apollo Client and urql implement: PERSISTED_QUERY_NOT_FOUND
(send the text with its hash), and a hash that does not match the text is a bad request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.persisted_documents import (
    AutomaticPersistedQueries,
    TrustedDocuments,
    is_sha256_hex,
    sha256_hex,
)


@dataclass(frozen=True)
class Refusal:
    message: str
    code: str

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


NOT_FOUND = Refusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
NOT_TRUSTED = Refusal(
    "Only registered documents are executed here (registerTrustedDocuments).",
    "DOCUMENT_NOT_TRUSTED",
)
BAD_HASH = Refusal(
    "extensions.persistedQuery needs version 1 and a sha256Hash of 64 hex digits matching the "
    "query.",
    "BAD_USER_INPUT",
)


class PersistedDocuments:
    def __init__(self, trusted_only: bool) -> None:
        self.trusted_only = trusted_only
        self.apq = AutomaticPersistedQueries()
        self.trusted = TrustedDocuments()

    async def fill_in(self, data: dict[str, Any]) -> Refusal | None:
        """Completes `data` (a GraphQL request's JSON: query, variables, extensions) in place, or
        says why it is refused."""
        extensions = data.get("extensions")
        if isinstance(extensions, str):  # GET: the extensions are a JSON string
            try:
                extensions = json.loads(extensions)
            except ValueError:
                return BAD_HASH
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        query = data.get("query")
        if persisted is None:
            if self.trusted_only and not (
                isinstance(query, str) and await self.trusted.get(sha256_hex(query))
            ):
                return NOT_TRUSTED
            return None
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            return BAD_HASH
        sha256 = persisted.get("sha256Hash")
        if not is_sha256_hex(sha256):
            return BAD_HASH
        if isinstance(query, str) and query:
            if sha256_hex(query) != sha256:
                return BAD_HASH
            if self.trusted_only:
                return None if await self.trusted.get(sha256) else NOT_TRUSTED
            self.apq.put(sha256, query)
            return None
        if self.trusted_only:
            document = await self.trusted.get(sha256)
            if document is None:
                return NOT_TRUSTED
        else:
            document = self.apq.get(sha256) or await self.trusted.get(sha256)
            if document is None:
                return NOT_FOUND
        data["query"] = document
        return None
