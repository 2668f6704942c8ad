"""License keys: types, the merchant's and customer's operations, and the public key API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers import licensing as resolve
from resolvers.context import Context
from resolvers.rows import as_row
from resolvers.types import Row
from schema.billing_types import Product
from schema.errors import UserError, payload
from schema.permissions import CUSTOMER, MERCHANT, SIGNED_IN
from schema.types import Connection, Node, connection

strawberry.enum(models.LicenseKeyStatus)
LicenseKeyStatus = models.LicenseKeyStatus


@strawberry.type
class LicenseKeyInstance(Node):
    name: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.LicenseKeyInstance) -> LicenseKeyInstance:
        return cls(id=strawberry.ID(row.id), name=row.name, created_at=row.created_at)


@strawberry.type
class LicenseKey(Node):
    key: str
    activations_limit: int | None
    instances_count: int
    expires_at: datetime | None
    created_at: datetime
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> LicenseKey:
        return cls(
            id=strawberry.ID(row["id"]),
            key=row["key"],
            activations_limit=row["activations_limit"],
            instances_count=row["instances_count"],
            expires_at=row["expires_at"],
            created_at=row["created_at"],
            row=row,
        )

    @classmethod
    def from_model(cls, instance: models.LicenseKey) -> LicenseKey:
        return cls.from_row(as_row(instance))

    @strawberry.field(description="Follows the subscription: EXPIRED once it has ended.")
    async def status(self, info: Info[Context, None]) -> LicenseKeyStatus:
        return await key_status(info.context, self)

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product:
        return await key_product(info.context, self)

    @strawberry.field(description="The devices it is activated on.")
    async def instances(self, info: Info[Context, None]) -> list[LicenseKeyInstance]:
        return await key_instances(info.context, self)


# A key's related values, for the fields above and for planned queries (schema/query_plans.py).


async def key_status(ctx: Context, key: LicenseKey) -> LicenseKeyStatus:
    subscription_id = key.row["subscription_id"]
    subscription = await ctx.loaders.subscription.load(subscription_id) if subscription_id else None
    return resolve.status(key.row["disabled"], key.row["expires_at"], subscription)


async def key_product(ctx: Context, key: LicenseKey) -> Product:
    row = await ctx.loaders.product.load(key.row["product_id"])
    assert row is not None  # a key's product is never deleted
    return Product.from_row(row, ctx)


async def key_instances(ctx: Context, key: LicenseKey) -> list[LicenseKeyInstance]:
    rows = await ctx.loaders.instances_of.load(str(key.id))
    return [LicenseKeyInstance.from_model(row) for row in rows]


@strawberry.input
class ActivateLicenseKeyInput:
    key: str
    name: str = strawberry.field(description="A name for the device, e.g. its host name.")


@strawberry.type
class ActivateLicenseKeyPayload:
    instance: LicenseKeyInstance | None
    user_errors: list[UserError]


@strawberry.input
class ValidateLicenseKeyInput:
    key: str
    instance_id: strawberry.ID | None = strawberry.field(
        default=None, description="When given, the key must also be activated on this instance."
    )


@strawberry.type
class ValidateLicenseKeyPayload:
    valid: bool
    license_key: LicenseKey | None
    user_errors: list[UserError]


@strawberry.input
class DeactivateLicenseKeyInput:
    key: str
    instance_id: strawberry.ID


@strawberry.type
class DeactivateLicenseKeyPayload:
    instance: LicenseKeyInstance | None
    user_errors: list[UserError]


@strawberry.input
class DeactivateLicenseKeyInstanceInput:
    instance_id: strawberry.ID


@strawberry.type
class DeactivateLicenseKeyInstancePayload:
    instance: LicenseKeyInstance | None
    user_errors: list[UserError]


@strawberry.input
class UpdateLicenseKeyInput:
    license_key_id: strawberry.ID
    activations_limit: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: unlimited."
    )
    disabled: bool | None = None
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="null: never expires."
    )


@strawberry.type
class UpdateLicenseKeyPayload:
    license_key: LicenseKey | None
    user_errors: list[UserError]


@strawberry.type
class LicensingQuery:
    @strawberry.field(
        permission_classes=MERCHANT,
        description="Merchant: license keys, newest first, optionally filtered.",
    )
    async def license_keys(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        customer_id: strawberry.ID | None = None,
        product_id: strawberry.ID | None = None,
        status: Annotated[LicenseKeyStatus | None, strawberry.argument()] = None,
    ) -> Connection[LicenseKey]:
        page = await resolve.list_license_keys(
            info.context,
            first,
            after,
            customer_id=str(customer_id) if customer_id else None,
            product_id=str(product_id) if product_id else None,
            status=status,
        )
        return connection(page, [LicenseKey.from_row(row) for row in page.rows])

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="One license key (merchant; or the customer's own).",
    )
    async def license_key(self, info: Info[Context, None], id: strawberry.ID) -> LicenseKey:
        return LicenseKey.from_model(await resolve.license_key(info.context, str(id)))


@strawberry.type
class LicensingMutation:
    @strawberry.mutation(description="Public: activates a key on a device, within its limit.")
    async def activate_license_key(
        self, info: Info[Context, None], input: ActivateLicenseKeyInput
    ) -> ActivateLicenseKeyPayload:
        return await payload(
            info,
            ActivateLicenseKeyPayload,
            lambda: resolve.activate(info.context, input.key, input.name),
            instance=LicenseKeyInstance.from_model,
        )

    @strawberry.mutation(description="Public: is this key (on this instance) valid now?")
    async def validate_license_key(
        self, info: Info[Context, None], input: ValidateLicenseKeyInput
    ) -> ValidateLicenseKeyPayload:
        instance_id = str(input.instance_id) if input.instance_id else None
        return await payload(
            info,
            ValidateLicenseKeyPayload,
            lambda: resolve.validate(info.context, input.key, instance_id),
            failed={"valid": False},
            valid=lambda result: result.valid,
            license_key=lambda result: LicenseKey.from_model(result.key) if result.key else None,
        )

    @strawberry.mutation(description="Public: frees an activation of the key.")
    async def deactivate_license_key(
        self, info: Info[Context, None], input: DeactivateLicenseKeyInput
    ) -> DeactivateLicenseKeyPayload:
        return await payload(
            info,
            DeactivateLicenseKeyPayload,
            lambda: resolve.deactivate(info.context, input.key, str(input.instance_id)),
            instance=LicenseKeyInstance.from_model,
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER, description="Customer: removes one of their own keys' devices."
    )
    async def deactivate_license_key_instance(
        self, info: Info[Context, None], input: DeactivateLicenseKeyInstanceInput
    ) -> DeactivateLicenseKeyInstancePayload:
        return await payload(
            info,
            DeactivateLicenseKeyInstancePayload,
            lambda: resolve.deactivate_own_instance(info.context, str(input.instance_id)),
            instance=LicenseKeyInstance.from_model,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT, description="Merchant: activation limit, disabled, expiry."
    )
    async def update_license_key(
        self, info: Info[Context, None], input: UpdateLicenseKeyInput
    ) -> UpdateLicenseKeyPayload:
        clear = frozenset(
            name for name in ("activations_limit", "expires_at") if getattr(input, name) is None
        )
        limit = input.activations_limit if input.activations_limit is not strawberry.UNSET else None
        expires = input.expires_at if input.expires_at is not strawberry.UNSET else None
        return await payload(
            info,
            UpdateLicenseKeyPayload,
            lambda: resolve.update_license_key(
                info.context,
                str(input.license_key_id),
                activations_limit=limit,
                disabled=input.disabled,
                expires_at=expires,
                clear=clear,
            ),
            license_key=LicenseKey.from_model,
        )
