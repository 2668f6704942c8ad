"""The per-request context that the HTTP edge builds and every resolver reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from models import (
    Invoice,
    LicenseKeyInstance,
    PaymentMethod,
    Product,
    Subscription,
)
from services.access.principal import Principal, PrincipalKind
from services.billing.invoices import outstanding_by_subscription
from services.errors import Unauthenticated
from services.licensing import list_instances
from services.ratelimit import RateLimiter
from services.scope import Scope

if TYPE_CHECKING:
    from app.settings import Settings


def _by_id(model: Any) -> Any:
    async def load(ids: list[str]) -> list[Any]:
        rows = {row.id: row for row in await model.filter(id__in=ids)}
        return [rows.get(i) for i in ids]

    return load


async def _load_instances_of(key_ids: list[str]) -> list[list[LicenseKeyInstance]]:
    grouped = await list_instances(key_ids)
    return [grouped[i] for i in key_ids]


async def _load_outstanding(ids: list[str]) -> list[int]:
    due = await outstanding_by_subscription(ids)
    return [due.get(i, 0) for i in ids]


async def _load_payment_methods_of(customer_ids: list[str]) -> list[list[PaymentMethod]]:
    rows = await PaymentMethod.filter(
        customer_id__in=customer_ids, removed_at__isnull=True
    ).order_by("-created_at", "-id")
    grouped: dict[str, list[PaymentMethod]] = {i: [] for i in customer_ids}
    for row in rows:
        grouped[row.customer_id].append(row)  # type: ignore[attr-defined]
    return [grouped[i] for i in customer_ids]


@dataclass
class Loaders:
    """Per-request DataLoaders. They load by id only; callers check the scope of what they get
    (or start from a scoped query), so a loader never widens what a caller can see."""

    product: DataLoader[str, Product | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(Product))
    )
    payment_method: DataLoader[str, PaymentMethod | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(PaymentMethod))
    )
    invoice: DataLoader[str, Invoice | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(Invoice))
    )
    subscription: DataLoader[str, Subscription | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(Subscription))
    )
    outstanding: DataLoader[str, int] = field(
        default_factory=lambda: DataLoader(load_fn=_load_outstanding)
    )
    payment_methods_of: DataLoader[str, list[PaymentMethod]] = field(
        default_factory=lambda: DataLoader(load_fn=_load_payment_methods_of)
    )
    instances_of: DataLoader[str, list[LicenseKeyInstance]] = field(
        default_factory=lambda: DataLoader(load_fn=_load_instances_of)
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

    @property
    def caller_id(self) -> str:
        caller = self.principal.caller_id
        assert caller is not None
        return caller

    @property
    def locale(self) -> str:
        """For formatting money: the client's Accept-Language (de or en)."""
        header = ""
        if self.request is not None:
            header = self.request.headers.get("accept-language", "")
        return "de" if header.lower().startswith("de") else "en"

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
