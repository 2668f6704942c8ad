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


@strawberry.input
class CreateCustomerInput:
    email: str
    name: str | None = None
    phone_number: str | None = strawberry.field(default=None, description="E.164.")


@strawberry.type
class CreateCustomerPayload:
    customer: Customer | None
    user_errors: list[UserError]


@strawberry.input
class UpdateCustomerInput:
    customer_id: strawberry.ID
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    phone_number: str | None = strawberry.UNSET


@strawberry.type
class UpdateCustomerPayload:
    customer: Customer | None
    user_errors: list[UserError]


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
    async def customer(self, info: Info[Context, None], id: strawberry.ID) -> Customer:
        return Customer.from_model(await resolve.customer(info.context, str(id)))

    @strawberry.field(permission_classes=MERCHANT, description="Merchant: customers, newest first.")
    async def customers(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
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
        description="Merchant: adds a customer. Emails are unique per mode.",
    )
    async def create_customer(
        self, info: Info[Context, None], input: CreateCustomerInput
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
        description="Merchant: changes a customer's email, name or phone.",
    )
    async def update_customer(
        self, info: Info[Context, None], input: UpdateCustomerInput
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
