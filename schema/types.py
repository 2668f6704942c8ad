"""Object types every area shares: the business, its look, connections and Node."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

import models
from resolvers import invoicing as resolve_invoicing
from resolvers import payments as resolve_payments
from resolvers import portal_settings as resolve_portal_settings
from resolvers.context import Context
from resolvers.merchant import BusinessProfile
from resolvers.types import COUNT_CAP, GatewayInfo, Page
from resolvers.types import Branding as BrandingValues
from schema.portal_settings_types import PortalSettings

if TYPE_CHECKING:
    from schema.invoicing import LegalDetails

strawberry.enum(
    models.Mode,
    description="Which data a call sees, from its credential (never from an argument): "
    "TEST: test keys and sessions, the test cards, no real money; LIVE: real customers and "
    "payments. The two never mix.",
)
Mode = models.Mode


@strawberry.interface(description="An object with a globally unique, prefixed id.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque, prefixed and globally unique (bus_…, cus_…, pdt_…, sub_…, pay_…, "
        "inv_…, pm_…, lic_…, lki_…, whk_…, evt_…, wha_…); node(id:) resolves it."
    )


@strawberry.type(description="How the hosted portal looks for a business.")
class Branding:
    name: str = strawberry.field(description="The business's name, shown in the header.")
    locale: str = strawberry.field(
        description="en or de: the portal's language when the customer's browser asks for neither."
    )
    logo_url: str | None = strawberry.field(
        description="https (or under PORTAL_PUBLIC_URL); the pages allow only its origin."
    )
    accent_color: str = strawberry.field(description="#RRGGBB; the portal's default when unset.")
    accent_contrast_color: str = strawberry.field(
        description="Text on the accent colour: white or near-black, whichever reads better."
    )
    link_color: str = strawberry.field(
        description="The accent, darkened where needed to read on white (WCAG AA, 4.5:1)."
    )

    @classmethod
    def from_values(cls, values: BrandingValues) -> Branding:
        return cls(
            name=values.name,
            locale=values.locale,
            logo_url=values.logo_url,
            accent_color=values.accent_color,
            accent_contrast_color=values.accent_contrast_color,
            link_color=values.link_color,
        )


strawberry.enum(
    models.GatewayProvider,
    name="PaymentGatewayProvider",
    description="TEST: the simulator with the documented test cards (test mode only). "
    "STRIPE: real payments through the business's Stripe account.",
)
PaymentGatewayProvider = models.GatewayProvider


@strawberry.type(description="How a business takes payments in the caller's mode.")
class PaymentGateway:
    provider: PaymentGatewayProvider = strawberry.field(
        description="Who takes the payments: the test simulator or Stripe."
    )
    publishable_key: str | None = strawberry.field(
        description="Stripe's publishable key, for Stripe.js. The secret key and the webhook "
        "secret are never readable."
    )
    configured_at: datetime | None = strawberry.field(
        description="null: the test simulator, never configured."
    )

    @classmethod
    def from_info(cls, info: GatewayInfo) -> PaymentGateway:
        return cls(
            provider=info.provider,
            publishable_key=info.publishable_key,
            configured_at=info.configured_at,
        )


@strawberry.type(
    description="The merchant's business, as seen in the caller's mode. Readable with the "
    "business's merchant API key and by its customers' portal sessions."
)
class Business(Node):
    name: str = strawberry.field(description="The name customers see.")
    support_email: str = strawberry.field(
        description="Where customers write for help; shown in the portal and in emails."
    )
    portal_login_url: str = strawberry.field(
        description="The static login link for the caller's mode: share it with customers."
    )
    locale: str = strawberry.field(description="en or de: emails and the portal's default.")
    branding: Branding = strawberry.field(description="How the hosted portal looks.")
    portal_settings: PortalSettings = strawberry.field(
        description="What customers may do in the portal, in the caller's mode."
    )
    time_zone: str = strawberry.field(
        description="The IANA time zone of the times in the business's emails and hosted "
        "pages: the one set with updateBusiness, else Europe/Berlin for a German business (its "
        "legal address in Germany, or none and German as its language), else UTC."
    )
    portal_return_url: str | None = strawberry.field(
        description="The default of the portal's 'Back to {name}' link, for portal links made "
        "without a returnUrl (updateBusiness); null: no such link."
    )
    return_url: str | None = strawberry.field(
        description="Where the portal's 'Back to {name}' link goes for this caller: a portal "
        "session's returnUrl (from createCustomerPortalSession), else portalReturnUrl."
    )

    @strawberry.field(
        description="How the business takes payments in the caller's mode; null in live mode "
        "until a gateway is configured."
    )
    async def payment_gateway(self, info: Info[Context, None]) -> PaymentGateway | None:
        found = await resolve_payments.payment_gateway(info.context)
        return PaymentGateway.from_info(found) if found else None

    @strawberry.field(
        description="Who sells, as the business's invoices say it (merchant key and the "
        "business's portal sessions: it is on every invoice)."
    )
    async def legal_details(
        self, info: Info[Context, None]
    ) -> Annotated[LegalDetails, strawberry.lazy("schema.invoicing")]:
        from schema.invoicing import LegalDetails as LegalDetailsView

        return LegalDetailsView.of(await resolve_invoicing.legal_details(info.context))

    @classmethod
    def from_profile(cls, profile: BusinessProfile) -> Business:
        row = profile.business
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            support_email=row.support_email,
            portal_login_url=profile.portal_login_url,
            locale=row.locale,
            branding=Branding.from_values(profile.branding),
            portal_settings=Deferred(_portal_settings, row.id, profile.mode),  # type: ignore[arg-type]
            time_zone=profile.time_zone,
            portal_return_url=row.portal_return_url,
            return_url=profile.return_url,
        )


@strawberry.type(
    description="A one-time link into a customer's portal, made by the merchant "
    "(createCustomerPortalSession)."
)
class PortalSession:
    link: str = strawberry.field(description="One-time link into the portal.")
    expires_at: datetime = strawberry.field(
        description="When the link stops working (24 hours after it was made); ISO 8601, UTC."
    )


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more objects follow this page.")
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor, to pass as `after` for the next page; null for an "
        "empty page."
    )


T = TypeVar("T")


@strawberry.type(description="One object of a page, with its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The object.")
    cursor: str = strawberry.field(
        description="Opaque; pass it as `after` to get the objects after this one."
    )


@strawberry.type(
    description="A page of a list (Relay connection): ask for up to `first` (at most 100) "
    "objects `after` a cursor."
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's objects, in the list's order.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and from where.")
    page: strawberry.Private[Page[Any]]

    @strawberry.field(
        description=f"All matching objects, across pages, counted up to {COUNT_CAP:,}: when "
        f"more match, this is {COUNT_CAP:,} and `totalCountCapped` is true."
    )
    async def total_count(self) -> int:
        return await self.page.total_count()

    @strawberry.field(
        description=f"True when more than {COUNT_CAP:,} objects match, so that `totalCount` "
        f"stops at {COUNT_CAP:,} (counting every row of a long list would cost as much as "
        "reading it)."
    )
    async def total_count_capped(self) -> bool:
        return (await self.page.total()).capped


class Deferred:
    """An awaitable field value, computed only if a query asks for the field: graphql-core
    awaits whatever a plain attribute field holds that is awaitable."""

    __slots__ = ("args", "function")

    def __init__(self, function: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self.function = function
        self.args = args

    def __await__(self) -> Any:
        return self.function(*self.args).__await__()


async def _portal_settings(business_id: str, mode: models.Mode) -> PortalSettings:
    return PortalSettings.of(await resolve_portal_settings.settings_for(business_id, mode))


async def _cursor(page: Page[Any], index: int) -> str:
    return page.cursor(index)


def connection(page: Page[Any], nodes: list[T], *, cursors: bool = True) -> Connection[T]:
    """`cursors=False` when the query does not ask for the edges' cursors: they are then
    encoded only if something awaits them."""
    if cursors:
        edges = [Edge(node=node, cursor=page.cursor(n)) for n, node in enumerate(nodes)]
    else:
        edges = [
            Edge(node=node, cursor=Deferred(_cursor, page, n))  # type: ignore[arg-type]
            for n, node in enumerate(nodes)
        ]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        page=page,
    )
