"""Portal access: the static login page's request, the merchant's portal links, sign-in."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from resolvers import access as resolve
from resolvers.context import Context
from schema.customer import Customer
from schema.errors import UserError, payload
from schema.permissions import CUSTOMER, MERCHANT
from schema.types import Mode, PortalSession


@strawberry.input
class RequestLoginLinkInput:
    business_id: strawberry.ID
    email: str
    mode: Mode = strawberry.field(
        default=Mode.LIVE, description="The mode of the static page the customer used."
    )


@strawberry.type
class RequestLoginLinkPayload:
    user_errors: list[UserError]


@strawberry.input
class CreateCustomerPortalSessionInput:
    customer_id: strawberry.ID
    send_email: bool = strawberry.field(
        default=False, description="Also email the link to the customer."
    )
    return_url: str | None = strawberry.field(
        default=None, description="Where the portal's 'back' link goes."
    )


@strawberry.type
class CreateCustomerPortalSessionPayload:
    portal_session: PortalSession | None
    user_errors: list[UserError]


@strawberry.input
class SignInInput:
    token: str = strawberry.field(description="The token from a portal or sign-in link.")
    mode: Mode | None = strawberry.field(
        default=None, description="When given, the link must belong to this mode."
    )


@strawberry.type
class SignInPayload:
    session_token: str | None = strawberry.field(
        description="Send as 'Authorization: Bearer <token>'. Also set as the portal cookie."
    )
    expires_at: datetime | None
    customer: Customer | None
    return_url: str | None
    user_errors: list[UserError]


@strawberry.type
class SignOutPayload:
    user_errors: list[UserError]


@strawberry.input
class ConfirmEmailChangeInput:
    token: str
    mode: Mode | None = None


@strawberry.type
class ConfirmEmailChangePayload:
    customer: Customer | None
    user_errors: list[UserError]


@strawberry.type
class AccessMutation:
    @strawberry.mutation(
        description="From the static login page: emails a one-time sign-in link when the address "
        "belongs to a customer. The answer is the same either way."
    )
    async def request_login_link(
        self, info: Info[Context, None], input: RequestLoginLinkInput
    ) -> RequestLoginLinkPayload:
        return await payload(
            info,
            RequestLoginLinkPayload,
            lambda: resolve.request_login_link(
                info.context,
                business_id=str(input.business_id),
                email=input.email,
                mode=input.mode,
            ),
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: a one-time portal link for a customer, valid 24 hours.",
    )
    async def create_customer_portal_session(
        self, info: Info[Context, None], input: CreateCustomerPortalSessionInput
    ) -> CreateCustomerPortalSessionPayload:
        return await payload(
            info,
            CreateCustomerPortalSessionPayload,
            lambda: resolve.create_portal_session(
                info.context,
                customer_id=str(input.customer_id),
                send_email=input.send_email,
                return_url=input.return_url,
            ),
            portal_session=lambda issued: PortalSession(
                link=issued.url, expires_at=issued.expires_at
            ),
        )

    @strawberry.mutation(description="Exchanges a link's token, once, for a portal session.")
    async def sign_in(self, info: Info[Context, None], input: SignInInput) -> SignInPayload:
        return await payload(
            info,
            SignInPayload,
            lambda: resolve.sign_in(info.context, token=input.token, mode=input.mode),
            session_token=lambda signed: signed.token,
            expires_at=lambda signed: signed.expires_at,
            customer=lambda signed: Customer.from_model(signed.customer),
            return_url=lambda signed: signed.return_url,
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER, description="Ends the current portal session."
    )
    async def sign_out(self, info: Info[Context, None]) -> SignOutPayload:
        return await payload(info, SignOutPayload, lambda: resolve.sign_out(info.context))

    @strawberry.mutation(description="Confirms a customer's new email address, once.")
    async def confirm_email_change(
        self, info: Info[Context, None], input: ConfirmEmailChangeInput
    ) -> ConfirmEmailChangePayload:
        return await payload(
            info,
            ConfirmEmailChangePayload,
            lambda: resolve.confirm_email_change(info.context, token=input.token, mode=input.mode),
            customer=Customer.from_model,
        )
