"""Plan families: the merchant groups recurring products of one currency; a subscription may
switch to any other product of its product's family."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from models import PlanFamily, Product
from models.ids import well_formed
from services.errors import NotFound, ServiceError
from services.scope import Scope

MAX_PRODUCTS = 50


async def get_plan_family(scope: Scope, family_id: str) -> PlanFamily:
    family = (
        await PlanFamily.get_or_none(id=family_id, business_id=scope.business_id, mode=scope.mode)
        if well_formed(family_id, "plf")
        else None
    )
    if family is None:
        raise NotFound("plan family", field=["planFamilyId"])
    return family


async def list_plan_families(scope: Scope) -> list[PlanFamily]:
    return await PlanFamily.filter(business_id=scope.business_id, mode=scope.mode).order_by(
        "created_at", "id"
    )


async def products_of_families(family_ids: Sequence[str]) -> dict[str, list[Product]]:
    """Each family's products (oldest first), in one query."""
    found: dict[str, list[Product]] = {family_id: [] for family_id in family_ids}
    if family_ids:
        for product in await Product.filter(plan_family_id__in=list(family_ids)).order_by(
            "created_at", "id"
        ):
            assert product.plan_family_id is not None
            found[product.plan_family_id].append(product)
    return found


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ServiceError("Give the plan family a name.", code="INVALID_NAME", field=["name"])
    if len(name) > 200:
        raise ServiceError("At most 200 characters.", code="TOO_LONG", field=["name"])
    return name


async def _members(scope: Scope, family_id: str | None, product_ids: Sequence[str]) -> list[str]:
    """The products, checked: the scope's, recurring, of one currency, in no other family."""
    ids = list(dict.fromkeys(str(p) for p in product_ids))
    if len(ids) < 2 or len(ids) > MAX_PRODUCTS:
        raise ServiceError(
            f"A plan family holds 2 to {MAX_PRODUCTS} products.",
            code="INVALID_PRODUCTS",
            field=["productIds"],
        )
    products = (
        await Product.filter(id__in=ids, business_id=scope.business_id, mode=scope.mode)
        if all(well_formed(p, "pdt") for p in ids)
        else []
    )
    if len(products) != len(ids):
        raise NotFound("product", field=["productIds"])
    if any(not p.is_recurring for p in products):
        raise ServiceError(
            "Only recurring products can be in a plan family.",
            code="INVALID_PRODUCT",
            field=["productIds"],
        )
    if len({p.currency for p in products}) != 1:
        raise ServiceError(
            "The products of a plan family share one currency.",
            code="CURRENCY_MISMATCH",
            field=["productIds"],
        )
    if any(p.plan_family_id not in (None, family_id) for p in products):
        raise ServiceError(
            "A product is in another plan family; take it out of that one first.",
            code="PRODUCT_IN_OTHER_FAMILY",
            field=["productIds"],
        )
    return ids


async def create_plan_family(scope: Scope, *, name: str, product_ids: Sequence[str]) -> PlanFamily:
    clean = _clean_name(name)
    ids = await _members(scope, None, product_ids)
    async with in_transaction():
        family = await PlanFamily.create(business_id=scope.business_id, mode=scope.mode, name=clean)
        # Conditional: a product taken by a concurrent family in the meantime fails this one.
        taken = await Product.filter(id__in=ids, plan_family_id__isnull=True).update(
            plan_family_id=family.id
        )
        if taken != len(ids):
            raise _taken()
    return family


def _taken() -> ServiceError:
    return ServiceError(
        "A product is in another plan family; take it out of that one first.",
        code="PRODUCT_IN_OTHER_FAMILY",
        field=["productIds"],
        retryable=True,
    )


async def update_plan_family(
    scope: Scope, family_id: str, *, name: str | None, product_ids: Sequence[str] | None
) -> PlanFamily:
    """Renames, and sets the products (those left out leave the family; their subscriptions
    keep running and can no longer switch; downgrades already scheduled still happen)."""
    family = await get_plan_family(scope, family_id)
    clean = _clean_name(name) if name is not None else None
    ids = await _members(scope, family.id, product_ids) if product_ids is not None else None
    async with in_transaction():
        if clean is not None:
            await PlanFamily.filter(id=family.id).update(name=clean)
        if ids is not None:
            await (
                Product.filter(plan_family_id=family.id)
                .exclude(id__in=ids)
                .update(plan_family_id=None)
            )
            await Product.filter(id__in=ids, plan_family_id__isnull=True).update(
                plan_family_id=family.id
            )
            # A product taken by another family meanwhile is missing here: nothing changes.
            if await Product.filter(id__in=ids, plan_family_id=family.id).count() != len(ids):
                raise _taken()
    await family.refresh_from_db()
    return family


async def plan_options(product: Product) -> list[Product]:
    """The products a subscription to `product` may switch to."""
    if product.plan_family_id is None:
        return []
    return (
        await Product.filter(plan_family_id=product.plan_family_id)
        .exclude(id=product.id)
        .order_by("price_amount", "created_at", "id")
    )
