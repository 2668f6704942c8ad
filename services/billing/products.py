"""Products: one-time or recurring, priced in minor units."""

from __future__ import annotations

from models import Product, TaxCategory, TimeInterval
from models.ids import well_formed
from services.billing.columns import shown
from services.errors import NotFound, ServiceError
from services.money import check_currency
from services.pagination import OrmPageQuery, Page, keyset_page
from services.scope import Scope
from services.sql import Row
from services.validation import clean_name


async def create_product(
    scope: Scope,
    *,
    name: str,
    description: str | None,
    price_amount: int,
    currency: str,
    interval: TimeInterval | None,
    interval_count: int | None,
    license_key_enabled: bool = False,
    license_key_activations_limit: int | None = None,
    license_key_duration_days: int | None = None,
    tax_category: TaxCategory = TaxCategory.STANDARD,
) -> Product:
    name = clean_name(name)
    if not name:
        raise ServiceError("A product needs a name.", code="INVALID_NAME", field=["name"])
    if price_amount <= 0 or price_amount > 10**12:
        raise ServiceError(
            "The price must be a positive amount in the currency's minor unit.",
            code="INVALID_AMOUNT",
            field=["price", "amount"],
        )
    currency = check_currency(currency)
    if interval is None and interval_count is not None:
        raise ServiceError(
            "intervalCount needs an interval.", code="INVALID_INTERVAL", field=["intervalCount"]
        )
    if interval is not None:
        interval_count = 1 if interval_count is None else interval_count
        if not 1 <= interval_count <= 365:
            raise ServiceError(
                "intervalCount must be between 1 and 365.",
                code="INVALID_INTERVAL",
                field=["intervalCount"],
            )
    for value, field in (
        (license_key_activations_limit, "licenseKeyActivationsLimit"),
        (license_key_duration_days, "licenseKeyDurationDays"),
    ):
        if value is not None and not 1 <= value <= 100_000:
            raise ServiceError(
                f"{field} must be between 1 and 100000.",
                code="INVALID_LICENSE_SETTINGS",
                field=[field],
            )
    return await Product.create(
        business_id=scope.business_id,
        mode=scope.mode,
        name=name,
        description=(description or "").strip()[:5000] or None,
        price_amount=price_amount,
        currency=currency,
        is_recurring=interval is not None,
        interval=interval,
        interval_count=interval_count,
        license_key_enabled=license_key_enabled,
        license_key_activations_limit=license_key_activations_limit
        if license_key_enabled
        else None,
        license_key_duration_days=license_key_duration_days if license_key_enabled else None,
        tax_category=tax_category,
    )


async def get_product(scope: Scope, product_id: str) -> Product:
    product = (
        await Product.get_or_none(id=product_id, business_id=scope.business_id, mode=scope.mode)
        if well_formed(product_id, "pdt")
        else None
    )
    if product is None:
        raise NotFound("product", field=["productId"])
    return product


async def list_products(scope: Scope, first: int | None, after: str | None) -> Page[Row]:
    query = Product.filter(business_id=scope.business_id, mode=scope.mode)
    return await keyset_page(OrmPageQuery(query, shown(Product)), first, after)
