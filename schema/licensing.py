"""License keys: types, the merchant's and customer's operations, and the public key API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers import licensing as resolve
from resolvers.context import Context
from schema.billing_types import Product
from schema.errors import UserError, user_errors
from schema.types import Connection, Node, connection
from services.licensing import status_of

LicenseKeyStatus = strawberry.enum(models.LicenseKeyStatus)


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
    _row: strawberry.Private[models.LicenseKey]

    @classmethod
    def from_model(cls, row: models.LicenseKey) -> LicenseKey:
        return cls(
            id=strawberry.ID(row.id),
            key=row.key,
            activations_limit=row.activations_limit,
            instances_count=row.instances_count,
            expires_at=row.expires_at,
            created_at=row.created_at,
            _row=row,
        )

    @strawberry.field(description="Follows the subscription: EXPIRED once it has ended.")
    async def status(self, info: Info[Context, None]) -> LicenseKeyStatus:
        subscription_id = self._row.subscription_id  # type: ignore[attr-defined]
        subscription = (
            await info.context.loaders.subscription.load(subscription_id)
            if subscription_id
            else None
        )
        status = models.SubscriptionStatus(subscription["status"]) if subscription else None
        return status_of(self._row, status)  # type: ignore[return-value]

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product:
        row = await info.context.loaders.product.load(self._row.product_id)  # type: ignore[attr-defined]
        return Product.from_row(row, info.context)  # type: ignore[arg-type,no-any-return]

    @strawberry.field(description="The devices it is activated on.")
    async def instances(self, info: Info[Context, None]) -> list[LicenseKeyInstance]:
        rows = await info.context.loaders.instances_of.load(str(self.id))
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


def _instance(row: models.LicenseKeyInstance | None) -> LicenseKeyInstance | None:
    return LicenseKeyInstance.from_model(row) if row else None


@strawberry.type
class LicensingQuery:
    @strawberry.field(description="Merchant: license keys, newest first, optionally filtered.")
    async def license_keys(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        customer_id: strawberry.ID | None = None,
        product_id: strawberry.ID | None = None,
        status: Annotated[LicenseKeyStatus | None, strawberry.argument()] = None,
    ) -> Connection[LicenseKey]:
        info.context.require_merchant()
        page = await resolve.list_license_keys(
            info.context,
            first,
            after,
            customer_id=str(customer_id) if customer_id else None,
            product_id=str(product_id) if product_id else None,
            status=status,  # type: ignore[arg-type]
        )
        return connection(page, [LicenseKey.from_model(row) for row in page.rows])

    @strawberry.field(description="One license key (merchant; or the customer's own).")
    async def license_key(self, info: Info[Context, None], id: strawberry.ID) -> LicenseKey:
        return LicenseKey.from_model(await resolve.license_key(info.context, str(id)))


@strawberry.type
class LicensingMutation:
    @strawberry.mutation(description="Public: activates a key on a device, within its limit.")
    async def activate_license_key(
        self, info: Info[Context, None], input: ActivateLicenseKeyInput
    ) -> ActivateLicenseKeyPayload:
        row, errors = await user_errors(
            lambda: resolve.activate(info.context, input.key, input.name)
        )
        return ActivateLicenseKeyPayload(instance=_instance(row), user_errors=errors)

    @strawberry.mutation(description="Public: is this key (on this instance) valid now?")
    async def validate_license_key(
        self, info: Info[Context, None], input: ValidateLicenseKeyInput
    ) -> ValidateLicenseKeyPayload:
        instance_id = str(input.instance_id) if input.instance_id else None
        result, errors = await user_errors(
            lambda: resolve.validate(info.context, input.key, instance_id)
        )
        key = result.key if result else None
        return ValidateLicenseKeyPayload(
            valid=bool(result and result.valid),
            license_key=LicenseKey.from_model(key) if key else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Public: frees an activation of the key.")
    async def deactivate_license_key(
        self, info: Info[Context, None], input: DeactivateLicenseKeyInput
    ) -> DeactivateLicenseKeyPayload:
        row, errors = await user_errors(
            lambda: resolve.deactivate(info.context, input.key, str(input.instance_id))
        )
        return DeactivateLicenseKeyPayload(instance=_instance(row), user_errors=errors)

    @strawberry.mutation(description="Customer: removes one of their own keys' devices.")
    async def deactivate_license_key_instance(
        self, info: Info[Context, None], input: DeactivateLicenseKeyInstanceInput
    ) -> DeactivateLicenseKeyInstancePayload:
        row, errors = await user_errors(
            lambda: resolve.deactivate_own_instance(info.context, str(input.instance_id))
        )
        return DeactivateLicenseKeyInstancePayload(instance=_instance(row), user_errors=errors)

    @strawberry.mutation(description="Merchant: activation limit, disabled, expiry.")
    async def update_license_key(
        self, info: Info[Context, None], input: UpdateLicenseKeyInput
    ) -> UpdateLicenseKeyPayload:
        clear = frozenset(
            name for name in ("activations_limit", "expires_at") if getattr(input, name) is None
        )
        limit = input.activations_limit if input.activations_limit is not strawberry.UNSET else None
        expires = input.expires_at if input.expires_at is not strawberry.UNSET else None
        row, errors = await user_errors(
            lambda: resolve.update_license_key(
                info.context,
                str(input.license_key_id),
                activations_limit=limit,
                disabled=input.disabled,
                expires_at=expires,
                clear=clear,
            )
        )
        return UpdateLicenseKeyPayload(
            license_key=LicenseKey.from_model(row) if row else None, user_errors=errors
        )
