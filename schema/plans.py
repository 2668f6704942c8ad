"""Plan families and plan changes: the merchant groups products that subscriptions may switch
between; a customer (portal session) or the merchant previews and makes a change."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers import plans as resolve
from resolvers.context import Context
from schema.billing_types import (
    Invoice,
    Money,
    NextAction,
    Payment,
    Product,
    Subscription,
    money,
    next_action,
)
from schema.errors import UserError, payload
from schema.permissions import MERCHANT, SIGNED_IN


@strawberry.enum(description="How a plan change takes effect.")
class PlanChangeKind(Enum):
    UPGRADE = strawberry.enum_value(
        "upgrade", description="Now: the prorated difference is charged at once."
    )
    DOWNGRADE = strawberry.enum_value(
        "downgrade",
        description="At the end of the current period (nothing is charged now); it can be "
        "cancelled until then.",
    )


@strawberry.enum(description="Where a plan change stands.")
class PlanChangeStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="An upgrade whose charge is under way.")
    SCHEDULED = strawberry.enum_value(
        "scheduled", description="A downgrade waiting for the period end."
    )
    APPLIED = strawberry.enum_value("applied", description="The subscription is on the new plan.")
    CANCELLED = strawberry.enum_value(
        "cancelled", description="A scheduled downgrade taken back, or its subscription ended."
    )
    FAILED = strawberry.enum_value(
        "failed", description="An upgrade whose charge failed: nothing changed."
    )


@strawberry.type(
    description="Products a subscription may switch between (merchant API key of its mode)."
)
class PlanFamily:
    id: strawberry.ID = strawberry.field(description="Its id (plf_…).")
    name: str = strawberry.field(description="For the merchant, e.g. Team plans.")
    products: list[Product] = strawberry.field(
        description="Its products, oldest first: recurring, of one currency."
    )
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")


@strawberry.type(description="A change of a subscription's plan, made or scheduled.")
class PlanChange:
    id: strawberry.ID = strawberry.field(description="Its id (pch_…).")
    kind: PlanChangeKind = strawberry.field(description="Now (UPGRADE) or at period end.")
    status: PlanChangeStatus = strawberry.field(description="Where it stands.")
    from_product: Product = strawberry.field(description="The plan before the change.")
    to_product: Product = strawberry.field(description="The plan after the change.")
    effective_at: datetime = strawberry.field(
        description="When it takes (or took) effect: now for an upgrade, the period end for a "
        "downgrade. ISO 8601, UTC."
    )
    proration_credit: Money = strawberry.field(
        description="Credited for the unused part of the old plan (as priced, before VAT)."
    )
    proration_charge: Money = strawberry.field(
        description="Charged for the new plan's part (as priced, before VAT)."
    )
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")

    @classmethod
    async def build(cls, row: models.PlanChange, ctx: Context) -> PlanChange:
        old = await resolve.product(ctx, row.from_product_id)
        new = await resolve.product(ctx, row.to_product_id)
        return cls(
            id=strawberry.ID(row.id),
            kind=PlanChangeKind(row.kind.value),
            status=PlanChangeStatus(row.status.value),
            from_product=Product.from_model(old, ctx),
            to_product=Product.from_model(new, ctx),
            effective_at=row.effective_at,
            proration_credit=money(row.credit_amount, row.currency, ctx),
            proration_charge=money(row.charge_amount, row.currency, ctx),
            created_at=row.created_at,
        )


@strawberry.type(
    description="What changing a subscription to another plan would do now, exact to the "
    "currency's minor unit (the rule is in the README, Plan changes)."
)
class PlanChangePreview:
    kind: PlanChangeKind = strawberry.field(description="Now (UPGRADE) or at period end.")
    product: Product = strawberry.field(description="The plan to change to.")
    effective_at: datetime = strawberry.field(description="When the change would take effect.")
    proration_credit: Money = strawberry.field(
        description="The unused part of the current plan, credited (as priced, before VAT); "
        "zero for a downgrade."
    )
    proration_charge: Money = strawberry.field(
        description="The new plan for the rest of the period, or a whole new period when the "
        "interval gets longer (as priced, before VAT); zero for a downgrade."
    )
    tax_due_now: Money = strawberry.field(description="The VAT in amountDueNow.")
    amount_due_now: Money = strawberry.field(
        description="What would be charged now: the invoice of the credit and the charge, VAT "
        "included; zero for a downgrade."
    )
    next_billing_date: datetime = strawberry.field(
        description="The first renewal after the change. ISO 8601, UTC."
    )
    next_renewal_amount: Money = strawberry.field(
        description="What that renewal charges: the new plan's price, VAT included."
    )


def _preview(view: resolve.PlanChangePreview, ctx: Context) -> PlanChangePreview:
    currency = view.currency
    terms = view.terms
    return PlanChangePreview(
        kind=PlanChangeKind(terms.kind.value),
        product=Product.from_model(view.product, ctx),
        effective_at=terms.effective_at,
        proration_credit=money(terms.credit, currency, ctx),
        proration_charge=money(terms.charge, currency, ctx),
        tax_due_now=money(view.tax_due_now, currency, ctx),
        amount_due_now=money(view.amount_due_now, currency, ctx),
        next_billing_date=terms.next_billing_date,
        next_renewal_amount=money(view.next_renewal_amount, currency, ctx),
    )


async def _families(ctx: Context, rows: list[models.PlanFamily]) -> list[PlanFamily]:
    products = await resolve.products_of_families(ctx, [row.id for row in rows])
    return [
        PlanFamily(
            id=strawberry.ID(row.id),
            name=row.name,
            products=[Product.from_model(p, ctx) for p in products[row.id]],
            created_at=row.created_at,
        )
        for row in rows
    ]


async def _family(ctx: Context, row: models.PlanFamily) -> PlanFamily:
    return (await _families(ctx, [row]))[0]


@strawberry.input(description="A new plan family.")
class CreatePlanFamilyInput:
    name: str = strawberry.field(description="At most 200 characters, not empty.")
    product_ids: list[strawberry.ID] = strawberry.field(
        description="2 to 50 recurring products (pdt_…) of one currency, in no other family."
    )


@strawberry.type(description="The result of createPlanFamily.")
class CreatePlanFamilyPayload:
    plan_family: PlanFamily | None = strawberry.field(description="The new family.")
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_NAME, TOO_LONG, INVALID_PRODUCTS (fewer than 2 or more than 50), "
        "NOT_FOUND, INVALID_PRODUCT (a one-time product), CURRENCY_MISMATCH, "
        "PRODUCT_IN_OTHER_FAMILY."
    )


@strawberry.input(description="Changes to a plan family; omitted fields stay as they are.")
class UpdatePlanFamilyInput:
    plan_family_id: strawberry.ID = strawberry.field(description="The family (plf_…).")
    name: str | None = strawberry.field(default=None, description="A new name.")
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="All its products from now on; those left out leave the family (their "
        "subscriptions keep running; downgrades already scheduled still happen).",
    )


@strawberry.type(description="The result of updatePlanFamily.")
class UpdatePlanFamilyPayload:
    plan_family: PlanFamily | None = strawberry.field(description="The family as it is now.")
    user_errors: list[UserError] = strawberry.field(
        description="As createPlanFamily, and NOT_FOUND for the family."
    )


@strawberry.input(description="A subscription to move to another plan of its family.")
class ChangePlanInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription (sub_…).")
    product_id: strawberry.ID = strawberry.field(
        description="The new plan (pdt_…), of the same plan family."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1 to 255 characters, kept 24 hours per business, mode and caller: the "
        "same key with the same input answers the first result again.",
    )


@strawberry.type(description="The result of changePlan.")
class ChangePlanPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it is now (on the new plan after an upgrade)."
    )
    plan_change: PlanChange | None = strawberry.field(
        description="The change: APPLIED, SCHEDULED, FAILED (the charge failed, nothing "
        "changed) or PENDING (the charge waits)."
    )
    payment: Payment | None = strawberry.field(description="The upgrade's charge, if any.")
    invoice: Invoice | None = strawberry.field(
        description="The upgrade's invoice with its proration lines: PAID, or VOID when the "
        "charge failed."
    )
    next_action: NextAction | None = strawberry.field(
        default=None,
        description="Set when the customer's bank wants them to authenticate (3-D Secure): "
        "run Stripe.js with it, then confirmPayment; the change is applied once it is paid.",
    )
    user_errors: list[UserError] = strawberry.field(
        description="See changePlan for the codes; a decline's code is here beside the FAILED "
        "payment."
    )


@strawberry.input(description="A scheduled plan change to take back.")
class CancelPlanChangeInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription (sub_…).")


@strawberry.type(description="The result of cancelPlanChange.")
class CancelPlanChangePayload:
    subscription: Subscription | None = strawberry.field(description="The subscription as now.")
    plan_change: PlanChange | None = strawberry.field(description="The change, CANCELLED.")
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND; INVALID_STATE when no change is scheduled."
    )


def _subscription_id(value: strawberry.ID) -> str:
    return str(value)


@strawberry.type
class PlansQuery:
    @strawberry.field(
        permission_classes=MERCHANT, description="Merchant: the plan families, oldest first."
    )
    async def plan_families(self, info: Info[Context, None]) -> list[PlanFamily]:
        return await _families(info.context, await resolve.plan_families_list(info.context))

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="The plans a subscription may change to: the other products of its "
        "product's plan family, cheapest first (merchant: any of the business's subscriptions; "
        "customer: own).",
    )
    async def plan_options(
        self,
        info: Info[Context, None],
        subscription_id: Annotated[
            strawberry.ID, strawberry.argument(description="The subscription (sub_…).")
        ],
    ) -> list[Product]:
        rows = await resolve.plan_options(info.context, str(subscription_id))
        return [Product.from_model(row, info.context) for row in rows]

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="What changing a subscription to another plan would do now: the proration "
        "credit and charge, the amount due now, the next renewal date and amount. Errors "
        "(extensions.code): NOT_FOUND, INVALID_STATE, PAYMENT_IN_PROGRESS, "
        "PLAN_CHANGE_SCHEDULED, SAME_PLAN, NOT_IN_PLAN_FAMILY, CURRENCY_MISMATCH.",
    )
    async def preview_plan_change(
        self,
        info: Info[Context, None],
        subscription_id: Annotated[
            strawberry.ID, strawberry.argument(description="The subscription (sub_…).")
        ],
        product_id: Annotated[
            strawberry.ID, strawberry.argument(description="The plan to change to (pdt_…).")
        ],
    ) -> PlanChangePreview:
        view = await resolve.preview_plan_change(
            info.context, str(subscription_id), str(product_id)
        )
        return _preview(view, info.context)

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="The downgrade scheduled for a subscription's period end; null when none.",
    )
    async def scheduled_plan_change(
        self,
        info: Info[Context, None],
        subscription_id: Annotated[
            strawberry.ID, strawberry.argument(description="The subscription (sub_…).")
        ],
    ) -> PlanChange | None:
        row = await resolve.scheduled_plan_change(info.context, str(subscription_id))
        return None if row is None else await PlanChange.build(row, info.context)


def _subscription_of(result: resolve.PlanChangeResult, ctx: Context) -> Subscription | None:
    return Subscription.from_model(result.subscription, ctx) if result.subscription else None


async def _plan_change_of(result: resolve.PlanChangeResult, ctx: Context) -> PlanChange | None:
    row = result.plan_change
    return None if row is None else await PlanChange.build(row, ctx)


@strawberry.type
class PlansMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: groups recurring products into a plan family; subscriptions may "
        "switch between its products. userErrors: see CreatePlanFamilyPayload.",
    )
    async def create_plan_family(
        self,
        info: Info[Context, None],
        input: Annotated[CreatePlanFamilyInput, strawberry.argument(description="The family.")],
    ) -> CreatePlanFamilyPayload:
        return await payload(
            info,
            CreatePlanFamilyPayload,
            lambda: resolve.create_plan_family(
                info.context, name=input.name, product_ids=[str(p) for p in input.product_ids]
            ),
            plan_family=lambda row: _family(info.context, row),
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: renames a plan family or sets its products. userErrors: see "
        "UpdatePlanFamilyPayload.",
    )
    async def update_plan_family(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdatePlanFamilyInput, strawberry.argument(description="The family and changes.")
        ],
    ) -> UpdatePlanFamilyPayload:
        ids = None if input.product_ids is None else [str(p) for p in input.product_ids]
        return await payload(
            info,
            UpdatePlanFamilyPayload,
            lambda: resolve.update_plan_family(
                info.context, str(input.plan_family_id), name=input.name, product_ids=ids
            ),
            plan_family=lambda row: _family(info.context, row),
        )

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="The customer (own subscription) or the merchant: changes a subscription's "
        "plan. An UPGRADE takes effect now and charges the prorated difference to the "
        "subscription's card (a failed charge changes nothing); a DOWNGRADE is scheduled for "
        "the period end (cancelPlanChange takes it back). userErrors: NOT_FOUND, "
        "INVALID_STATE, PAYMENT_IN_PROGRESS, PLAN_CHANGE_SCHEDULED, SAME_PLAN, "
        "NOT_IN_PLAN_FAMILY, CURRENCY_MISMATCH, NO_PAYMENT_METHOD, a decline's code (e.g. "
        "CARD_DECLINED), GATEWAY_UNAVAILABLE, IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE.",
    )
    async def change_plan(
        self,
        info: Info[Context, None],
        input: Annotated[
            ChangePlanInput, strawberry.argument(description="The subscription and new plan.")
        ],
    ) -> ChangePlanPayload:
        ctx = info.context
        return await payload(
            info,
            ChangePlanPayload,
            lambda: resolve.change_plan(
                ctx,
                subscription_id=str(input.subscription_id),
                product_id=str(input.product_id),
                idempotency_key=input.idempotency_key,
            ),
            subscription=lambda r: _subscription_of(r, ctx),
            plan_change=lambda r: _plan_change_of(r, ctx),
            payment=lambda r: Payment.from_model(r.payment, ctx) if r.payment else None,
            invoice=lambda r: Invoice.from_model(r.invoice, ctx) if r.invoice else None,
            next_action=lambda r: next_action(ctx, r.client_secret),
        )

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="The customer (own subscription) or the merchant: takes back a downgrade "
        "scheduled for the period end. userErrors: NOT_FOUND, INVALID_STATE.",
    )
    async def cancel_plan_change(
        self,
        info: Info[Context, None],
        input: Annotated[
            CancelPlanChangeInput, strawberry.argument(description="The subscription.")
        ],
    ) -> CancelPlanChangePayload:
        ctx = info.context
        return await payload(
            info,
            CancelPlanChangePayload,
            lambda: resolve.cancel_plan_change(ctx, str(input.subscription_id)),
            subscription=lambda r: _subscription_of(r, ctx),
            plan_change=lambda r: _plan_change_of(r, ctx),
        )
