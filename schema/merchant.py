"""The merchant's side: the business and its customers."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import merchant as resolve
from resolvers.context import Context
from schema.customer import Customer
from schema.errors import UserError, payload
from schema.permissions import MERCHANT, SIGNED_IN
from schema.types import Business, Connection, connection


@strawberry.input(description="A new customer.")
class CreateCustomerInput:
    email: str = strawberry.field(
        description="Unique among the business's customers of this mode (case-insensitive)."
    )
    name: str | None = strawberry.field(default=None, description="At most 200 characters.")
    phone_number: str | None = strawberry.field(default=None, description="E.164.")


@strawberry.type(description="The result of createCustomer.")
class CreateCustomerPayload:
    customer: Customer | None = strawberry.field(description="The new customer; null on failure.")
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_EMAIL, EMAIL_TAKEN, INVALID_PHONE_NUMBER, TOO_LONG (name)."
    )


@strawberry.input(
    description="Changes to a customer, all at once: omitted fields stay as they are, null "
    "clears name and phoneNumber."
)
class UpdateCustomerInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer (cus_…).")
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Taken at once (the merchant vouches for it); cannot be null.",
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200 characters."
    )
    phone_number: str | None = strawberry.field(default=strawberry.UNSET, description="E.164.")


@strawberry.type(description="The result of updateCustomer.")
class UpdateCustomerPayload:
    customer: Customer | None = strawberry.field(
        description="The customer as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND, INVALID_EMAIL, EMAIL_TAKEN, INVALID_PHONE_NUMBER, TOO_LONG (name)."
    )


def given(input: object, *names: str) -> dict[str, object]:
    """The fields a client actually sent (UNSET ones are left alone; null clears)."""
    return {
        name: value for name in names if (value := getattr(input, name)) is not strawberry.UNSET
    }


@strawberry.type
class MerchantQuery:
    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="The business of the caller (API key or portal session).",
    )
    async def business(self, info: Info[Context, None]) -> Business:
        return Business.from_profile(await resolve.business(info.context))

    @strawberry.field(permission_classes=MERCHANT, description="Merchant: one customer.")
    async def customer(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="Its id (cus_…).")],
    ) -> Customer:
        return Customer.from_model(await resolve.customer(info.context, str(id)))

    @strawberry.field(permission_classes=MERCHANT, description="Merchant: customers, newest first.")
    async def customers(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, at most 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor from this list: start after it."),
        ] = None,
        email: Annotated[
            str | None,
            strawberry.argument(description="Exact address, compared case-insensitively."),
        ] = None,
    ) -> Connection[Customer]:
        return await customers_page(info.context, first, after, email)


@strawberry.type
class MerchantMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: adds a customer in the key's mode. Emails are unique per mode. "
        "userErrors: INVALID_EMAIL, EMAIL_TAKEN, INVALID_PHONE_NUMBER, TOO_LONG.",
    )
    async def create_customer(
        self,
        info: Info[Context, None],
        input: Annotated[CreateCustomerInput, strawberry.argument(description="The customer.")],
    ) -> CreateCustomerPayload:
        return await payload(
            info,
            CreateCustomerPayload,
            lambda: resolve.create_customer(
                info.context, email=input.email, name=input.name, phone_number=input.phone_number
            ),
            customer=Customer.from_model,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: changes a customer's email, name or phone. userErrors: NOT_FOUND, "
        "INVALID_EMAIL, EMAIL_TAKEN, INVALID_PHONE_NUMBER, TOO_LONG.",
    )
    async def update_customer(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateCustomerInput, strawberry.argument(description="The customer and the changes.")
        ],
    ) -> UpdateCustomerPayload:
        changes = given(input, "email", "name", "phone_number")
        return await payload(
            info,
            UpdateCustomerPayload,
            lambda: resolve.update_customer(info.context, str(input.customer_id), changes),
            customer=Customer.from_model,
        )


async def customers_page(
    ctx: Context, first: int | None = 20, after: str | None = None, email: str | None = None
) -> Connection[Customer]:
    """The merchant's customers (also for planned queries, schema/query_plans.py)."""
    page = await resolve.list_customers(ctx, first, after, email)
    return connection(page, [Customer.from_row(row) for row in page.rows])
