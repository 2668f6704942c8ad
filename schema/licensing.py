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

strawberry.enum(
    models.LicenseKeyStatus,
    description="ACTIVE: it can be activated and validates. EXPIRED: past its expiresAt, or its "
    "subscription ended (CANCELLED, EXPIRED or FAILED; ON_HOLD keeps it ACTIVE). DISABLED: "
    "turned off by the merchant, or suspended while its subscription is PAUSED past the "
    "period paid for (ACTIVE again when it resumes).",
)
LicenseKeyStatus = models.LicenseKeyStatus


@strawberry.type(description="One activation of a license key: a device it runs on.")
class LicenseKeyInstance(Node):
    name: str = strawberry.field(
        description="The name given on activation (at most 200 characters), or Unnamed device."
    )
    created_at: datetime = strawberry.field(description="When it was activated; ISO 8601, UTC.")

    @classmethod
    def from_model(cls, row: models.LicenseKeyInstance) -> LicenseKeyInstance:
        return cls(id=strawberry.ID(row.id), name=row.name, created_at=row.created_at)


@strawberry.type(
    description="A license key issued with a purchase of a product that has licenseKeyEnabled. "
    "Readable with the merchant's API key of its mode, by its customer's portal session, and "
    "through validateLicenseKey by anyone who holds the key."
)
class LicenseKey(Node):
    key: str = strawberry.field(
        description="The secret the software sends: five groups of five characters, with a "
        "TEST- prefix in test mode; compared case-insensitively."
    )
    activations_limit: int | None = strawberry.field(
        description="How many devices it may be activated on at once; null: unlimited."
    )
    instances_count: int = strawberry.field(description="Devices it is activated on now.")
    expires_at: datetime | None = strawberry.field(
        description="When it stops being valid; null: no date of its own. ISO 8601, UTC."
    )
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")
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

    @strawberry.field(description="The product it was issued for.")
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


@strawberry.input(description="Activates a license key on one device.")
class ActivateLicenseKeyInput:
    key: str = strawberry.field(description="The license key, as the customer received it.")
    name: str = strawberry.field(description="A name for the device, e.g. its host name.")


@strawberry.type(description="The result of activateLicenseKey.")
class ActivateLicenseKeyPayload:
    instance: LicenseKeyInstance | None = strawberry.field(
        description="The new activation; keep its id to validate and deactivate. Null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (no such key), LICENSE_KEY_INACTIVE (disabled or expired), "
        "ACTIVATION_LIMIT_REACHED, TOO_LONG (name)."
    )


@strawberry.input(description="Asks whether a license key is valid now.")
class ValidateLicenseKeyInput:
    key: str = strawberry.field(description="The license key to check.")
    instance_id: strawberry.ID | None = strawberry.field(
        default=None, description="When given, the key must also be activated on this instance."
    )


@strawberry.type(description="The result of validateLicenseKey.")
class ValidateLicenseKeyPayload:
    valid: bool = strawberry.field(
        description="True when the key exists, is ACTIVE and (when instanceId is given) is "
        "activated on that instance."
    )
    license_key: LicenseKey | None = strawberry.field(
        description="The key, when it exists (also when it is not valid)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Always empty: an unknown or invalid key answers valid: false."
    )


@strawberry.input(description="Frees one activation of a license key.")
class DeactivateLicenseKeyInput:
    key: str = strawberry.field(description="The license key.")
    instance_id: strawberry.ID = strawberry.field(
        description="The activation to remove (lki_…), from activateLicenseKey."
    )


@strawberry.type(description="The result of deactivateLicenseKey.")
class DeactivateLicenseKeyPayload:
    instance: LicenseKeyInstance | None = strawberry.field(
        description="The activation as it was before it was removed; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND: no such key, or no such activation of it."
    )


@strawberry.input(description="Removes a device from one of the customer's own keys.")
class DeactivateLicenseKeyInstanceInput:
    instance_id: strawberry.ID = strawberry.field(description="The activation to remove (lki_…).")


@strawberry.type(description="The result of deactivateLicenseKeyInstance.")
class DeactivateLicenseKeyInstancePayload:
    instance: LicenseKeyInstance | None = strawberry.field(
        description="The activation as it was before it was removed; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND: no such activation of the customer's keys."
    )


@strawberry.input(
    description="Changes a license key. Omitted fields stay as they are; null clears "
    "activationsLimit and expiresAt."
)
class UpdateLicenseKeyInput:
    license_key_id: strawberry.ID = strawberry.field(description="The key to change (lic_…).")
    activations_limit: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: unlimited."
    )
    disabled: bool | None = strawberry.field(
        default=None,
        description="true turns the key off (DISABLED); false on again; omitted or null: as is.",
    )
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="null: never expires."
    )


@strawberry.type(description="The result of updateLicenseKey.")
class UpdateLicenseKeyPayload:
    license_key: LicenseKey | None = strawberry.field(
        description="The key as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND, INVALID_LICENSE_SETTINGS (activationsLimit outside 1 to "
        "100000), BAD_USER_INPUT (expiresAt without a time zone)."
    )


@strawberry.input(description="The license key whose value is to be replaced.")
class RotateLicenseKeyInput:
    license_key_id: strawberry.ID = strawberry.field(description="The key to rotate (lic_…).")


@strawberry.type(description="The result of rotateLicenseKey.")
class RotateLicenseKeyPayload:
    license_key: LicenseKey | None = strawberry.field(
        description="The key with its new value; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (someone else's or an unknown key), INVALID_STATE (rotated by "
        "another request at the same moment: try again)."
    )


@strawberry.type
class LicensingQuery:
    @strawberry.field(
        permission_classes=MERCHANT,
        description="Merchant: license keys, newest first, optionally filtered.",
    )
    async def license_keys(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
        customer_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this customer's keys (cus_…)."),
        ] = None,
        product_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only keys of this product (pdt_…)."),
        ] = None,
        status: Annotated[
            LicenseKeyStatus | None, strawberry.argument(description="Only keys in this status.")
        ] = None,
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
    async def license_key(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's id (lic_…).")],
    ) -> LicenseKey:
        return LicenseKey.from_model(await resolve.license_key(info.context, str(id)))


@strawberry.type
class LicensingMutation:
    @strawberry.mutation(
        description="Public, the key is the credential: activates a key on a device, within its "
        "limit (also when many activations arrive at once). Rate limited per client IP and per "
        "key (RATE_LIMITED). userErrors: NOT_FOUND, LICENSE_KEY_INACTIVE, "
        "ACTIVATION_LIMIT_REACHED, TOO_LONG."
    )
    async def activate_license_key(
        self,
        info: Info[Context, None],
        input: Annotated[
            ActivateLicenseKeyInput, strawberry.argument(description="The key and the device.")
        ],
    ) -> ActivateLicenseKeyPayload:
        return await payload(
            info,
            ActivateLicenseKeyPayload,
            lambda: resolve.activate(info.context, input.key, input.name),
            instance=LicenseKeyInstance.from_model,
        )

    @strawberry.mutation(
        description="Public, the key is the credential: is this key (on this instance) valid "
        "now? Answers valid: false rather than an error. Rate limited per client IP and per key "
        "(RATE_LIMITED)."
    )
    async def validate_license_key(
        self,
        info: Info[Context, None],
        input: Annotated[
            ValidateLicenseKeyInput,
            strawberry.argument(description="The key, and optionally the instance."),
        ],
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

    @strawberry.mutation(
        description="Public, the key is the credential: frees an activation of the key. Rate "
        "limited per client IP and per key (RATE_LIMITED). userErrors: NOT_FOUND."
    )
    async def deactivate_license_key(
        self,
        info: Info[Context, None],
        input: Annotated[
            DeactivateLicenseKeyInput,
            strawberry.argument(description="The key and the activation to free."),
        ],
    ) -> DeactivateLicenseKeyPayload:
        return await payload(
            info,
            DeactivateLicenseKeyPayload,
            lambda: resolve.deactivate(info.context, input.key, str(input.instance_id)),
            instance=LicenseKeyInstance.from_model,
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: removes one of their own keys' devices. userErrors: NOT_FOUND.",
    )
    async def deactivate_license_key_instance(
        self,
        info: Info[Context, None],
        input: Annotated[
            DeactivateLicenseKeyInstanceInput,
            strawberry.argument(description="The activation to remove."),
        ],
    ) -> DeactivateLicenseKeyInstancePayload:
        return await payload(
            info,
            DeactivateLicenseKeyInstancePayload,
            lambda: resolve.deactivate_own_instance(info.context, str(input.instance_id)),
            instance=LicenseKeyInstance.from_model,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: replaces a key's value (e.g. after it leaked). The old value "
        "stops validating at once; activated devices stay with the license under the new "
        "value; the customer sees the new key in the portal and is emailed it; the webhook "
        "event license_key.rotated carries it. userErrors: NOT_FOUND, INVALID_STATE.",
    )
    async def rotate_license_key(
        self,
        info: Info[Context, None],
        input: Annotated[
            RotateLicenseKeyInput, strawberry.argument(description="The key to rotate.")
        ],
    ) -> RotateLicenseKeyPayload:
        return await payload(
            info,
            RotateLicenseKeyPayload,
            lambda: resolve.rotate_license_key(info.context, str(input.license_key_id)),
            license_key=LicenseKey.from_model,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: a key's activation limit, disabled flag or expiry. userErrors: "
        "NOT_FOUND, INVALID_LICENSE_SETTINGS, BAD_USER_INPUT.",
    )
    async def update_license_key(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateLicenseKeyInput, strawberry.argument(description="The key and the changes.")
        ],
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
