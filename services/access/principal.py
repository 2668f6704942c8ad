"""The authenticated caller of a request, resolved once at the HTTP edge."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models import Mode
from services.scope import Scope


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    MERCHANT = "merchant"  # an API key
    CUSTOMER = "customer"  # a portal session
    INVALID = "invalid"  # a credential was sent, but it is not valid


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    business_id: str | None = None
    mode: Mode | None = None
    customer_id: str | None = None
    session_id: str | None = None
    api_key_id: str | None = None
    # A portal session's: the returnUrl its link was made with (read with the session row).
    return_url: str | None = None

    @property
    def caller_id(self) -> str | None:
        """Who idempotency keys and rate limits belong to."""
        return self.api_key_id or self.customer_id

    def scope(self) -> Scope:
        assert self.business_id is not None and self.mode is not None
        return Scope(self.business_id, self.mode, self.customer_id)


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)
INVALID = Principal(PrincipalKind.INVALID)
