"""The per-request context that the HTTP edge builds and every resolver reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from models import Business, Customer
from services.access.principal import Principal, PrincipalKind
from services.errors import Unauthenticated
from services.ratelimit import RateLimiter
from services.scope import Scope

if TYPE_CHECKING:
    from app.settings import Settings


async def _load_businesses(ids: list[str]) -> list[Business | None]:
    rows = {row.id: row for row in await Business.filter(id__in=ids)}
    return [rows.get(i) for i in ids]


async def _load_customers(ids: list[str]) -> list[Customer | None]:
    rows = {row.id: row for row in await Customer.filter(id__in=ids)}
    return [rows.get(i) for i in ids]


@dataclass
class Loaders:
    """Per-request DataLoaders. They load by id only; callers check the scope of what they get
    (or start from a scoped query), so a loader never widens what a caller can see."""

    business: DataLoader[str, Business | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_businesses)
    )
    customer: DataLoader[str, Customer | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_customers)
    )


@dataclass
class Context:
    request: Any
    response: Any
    settings: Settings
    principal: Principal
    limiter: RateLimiter
    client_ip: str
    loaders: Loaders = field(default_factory=Loaders)

    def require_merchant(self) -> Scope:
        if self.principal.kind != PrincipalKind.MERCHANT:
            raise Unauthenticated("This needs a merchant API key (Authorization: Bearer sk_…).")
        return self.principal.scope()

    def require_customer(self) -> Scope:
        if self.principal.kind != PrincipalKind.CUSTOMER:
            raise Unauthenticated("This needs a portal session. Sign in through a portal link.")
        return self.principal.scope()

    def require_any(self) -> Scope:
        if self.principal.kind not in (PrincipalKind.MERCHANT, PrincipalKind.CUSTOMER):
            raise Unauthenticated("This needs an API key or a portal session.")
        return self.principal.scope()
