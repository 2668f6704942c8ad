"""The per-request context that the HTTP edge builds and every resolver reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from models import (
    Invoice,
    LicenseKeyInstance,
    PaymentMethod,
    Product,
    Subscription,
)
from services.access.principal import INVALID, Principal, PrincipalKind
from services.access.sessions import (
    LiveSession,
    SessionClaims,
    principal_of_session,
)
from services.access.sessions import (
    confirm_session as read_session_row,
)
from services.billing.columns import shown
from services.billing.invoices import outstanding_by_subscription
from services.billing.payment_methods import saved_cards_of
from services.billing.related_rows import StatementRead, read_together
from services.licensing import list_instances
from services.ratelimit import RateLimiter
from services.scope import Scope
from services.sql import Row, rows_by_id

if TYPE_CHECKING:
    from services.settings import Settings


def _by_id(model: Any) -> Any:
    async def load(ids: list[str]) -> list[Row | None]:
        return await rows_by_id(model, shown(model), ids)

    return load


async def _load_instances_of(key_ids: list[str]) -> list[list[LicenseKeyInstance]]:
    grouped = await list_instances(key_ids)
    return [grouped[i] for i in key_ids]


async def _load_outstanding(ids: list[str]) -> list[int]:
    due = await outstanding_by_subscription(ids)
    return [due.get(i, 0) for i in ids]


async def _load_payment_methods_of(customer_ids: list[str]) -> list[list[Row]]:
    grouped = await saved_cards_of(customer_ids)
    return [grouped[i] for i in customer_ids]


@dataclass
class Loaders:
    """Per-request DataLoaders. They load by id only; callers check the scope of what they get
    (or start from a scoped query), so a loader never widens what a caller can see. Billing
    objects come as rows (services/sql.py): the views read them without building models."""

    product: DataLoader[str, Row | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(Product))
    )
    payment_method: DataLoader[str, Row | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(PaymentMethod))
    )
    invoice: DataLoader[str, Row | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(Invoice))
    )
    subscription: DataLoader[str, Row | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id(Subscription))
    )
    outstanding: DataLoader[str, int] = field(
        default_factory=lambda: DataLoader(load_fn=_load_outstanding)
    )
    payment_methods_of: DataLoader[str, list[Row]] = field(
        default_factory=lambda: DataLoader(load_fn=_load_payment_methods_of)
    )
    instances_of: DataLoader[str, list[LicenseKeyInstance]] = field(
        default_factory=lambda: DataLoader(load_fn=_load_instances_of)
    )
    # The pages (and counts) of one kind of list for many parents at once: the merchant's
    # customers each with their invoices are one statement (services/billing/related_rows.py).
    # Its keys are statements built from a scoped query.
    page_rows: DataLoader[StatementRead, list[Row]] = field(
        default_factory=lambda: DataLoader(load_fn=read_together)
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
    # Views built from rows in this request, by (type, id): an object that two lists show
    # (an invoice, and the invoice of a payment) is built once. Like the DataLoaders' caches,
    # dropped before each mutation field (`forget_reads`).
    views: dict[tuple[type, str], Any] = field(default_factory=dict)
    # A websocket's connection_init payload (Strawberry sets it; app/graphql.py reads it).
    connection_params: dict[str, Any] | None = None
    # A portal session token that was verified but whose row is not read yet; until it is
    # (`confirm_session`, or a compiled query that reads it with its data: `confirmed`), the
    # principal is INVALID and may do nothing.
    unconfirmed: SessionClaims | None = None

    async def confirm_session(self) -> None:
        claims = self.unconfirmed
        if claims is None:
            return
        session = await read_session_row(claims)
        self.unconfirmed = None
        self.principal = INVALID if session is None else principal_of_session(session)

    def confirmed(self, session: LiveSession) -> None:
        """The session row, read and checked with the data of a compiled query."""
        self.unconfirmed = None
        self.principal = principal_of_session(session)

    def forget_reads(self) -> None:
        """Drops the views and the DataLoaders' rows read so far (before a mutation field)."""
        self.views.clear()
        self.loaders = Loaders()

    @property
    def over_websocket(self) -> bool:
        """A graphql-transport-ws connection (Strawberry sets its connection_init payload
        before any operation runs on it)."""
        return self.connection_params is not None

    @property
    def caller_id(self) -> str:
        caller = self.principal.caller_id
        assert caller is not None
        return caller

    @cached_property
    def locale(self) -> str:
        """For formatting money: the client's Accept-Language (de or en)."""
        header = ""
        if self.request is not None:
            header = self.request.headers.get("accept-language", "")
        return "de" if header.lower().startswith("de") else "en"

    # Who may call a field is declared on the field (schema/permissions.py); these tell the
    # permission classes, and hand resolvers the caller's scope. A resolver that asks for a
    # merchant's scope on a field not declared for merchants is a programming error.

    @property
    def is_merchant(self) -> bool:
        return self.principal.kind == PrincipalKind.MERCHANT

    @property
    def is_customer(self) -> bool:
        return self.principal.kind == PrincipalKind.CUSTOMER

    @property
    def is_signed_in(self) -> bool:
        return self.is_merchant or self.is_customer

    def scope(self) -> Scope:
        """The caller's scope: a merchant's (business, mode) or a customer's (…, customer)."""
        if not self.is_signed_in:
            raise AssertionError("a field without a permission class reached a scope")
        return self.principal.scope()

    def merchant_scope(self) -> Scope:
        if not self.is_merchant:
            raise AssertionError("a merchant field without the merchant permission")
        return self.principal.scope()

    def customer_scope(self) -> Scope:
        if not self.is_customer:
            raise AssertionError("a customer field without the portal-session permission")
        return self.principal.scope()

    @property
    def customer_id(self) -> str:
        """The signed-in customer (a portal session's)."""
        customer_id = self.customer_scope().customer_id
        assert customer_id is not None
        return customer_id
