"""The customer's side: `me` and the profile."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import portal as resolve
from resolvers.context import Context
from schema.customer import Customer
from schema.errors import UserError, payload
from schema.merchant import given
from schema.permissions import CUSTOMER


@strawberry.input(
    description="The signed-in customer's changes: omitted fields stay as they are, null clears "
    "name, phoneNumber and locale."
)
class UpdateProfileInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200 characters."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Taken only once the customer follows the confirmation link sent to it.",
    )
    phone_number: str | None = strawberry.field(default=strawberry.UNSET, description="E.164.")
    locale: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="en or de: the portal's and the emails' language; null: the business's.",
    )


@strawberry.type(description="The result of updateProfile.")
class UpdateProfilePayload:
    customer: Customer | None = strawberry.field(
        description="The customer as it is now (the email unchanged until confirmed); null on "
        "failure."
    )
    email_confirmation_sent: bool = strawberry.field(
        description="True when a confirmation link went to the new email address."
    )
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_EMAIL, INVALID_PHONE_NUMBER, INVALID_LOCALE, TOO_LONG (name)."
    )


@strawberry.type
class PortalQuery:
    @strawberry.field(
        permission_classes=CUSTOMER, description="The signed-in customer (portal session)."
    )
    def me(self, info: Info[Context, None]) -> Customer:
        return signed_in_customer(info.context)


@strawberry.type
class PortalMutation:
    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: edits their own name, phone and language at once; a new email "
        "is taken only once the customer follows the confirmation link sent to it (whether "
        "another customer has it is checked then). userErrors: INVALID_EMAIL, "
        "INVALID_PHONE_NUMBER, INVALID_LOCALE, TOO_LONG.",
    )
    async def update_profile(
        self,
        info: Info[Context, None],
        input: Annotated[UpdateProfileInput, strawberry.argument(description="The changes.")],
    ) -> UpdateProfilePayload:
        changes = given(input, "name", "email", "phone_number", "locale")
        return await payload(
            info,
            UpdateProfilePayload,
            lambda: resolve.update_profile(info.context, changes),
            failed={"email_confirmation_sent": False},
            customer=lambda result: Customer.from_model(result.customer),
            email_confirmation_sent=lambda result: result.email_confirmation_sent,
        )


def signed_in_customer(ctx: Context) -> Customer:
    """`me` (also for planned queries, schema/query_plans.py)."""
    return Customer.of_session(ctx.customer_id, lambda: resolve.me(ctx))
