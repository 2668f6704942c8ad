"""Portal access: the static login page's request, the merchant's portal links, sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import access as resolve
from resolvers.context import Context
from schema.customer import Customer
from schema.errors import UserError, payload
from schema.permissions import CUSTOMER, MERCHANT
from schema.types import Mode, PortalSession


@strawberry.input(description="A customer asks for a sign-in link on the static login page.")
class RequestLoginLinkInput:
    business_id: strawberry.ID = strawberry.field(description="The business (bus_…).")
    email: str = strawberry.field(description="The address the customer typed.")
    mode: Mode = strawberry.field(
        default=Mode.LIVE, description="The mode of the static page the customer used."
    )


@strawberry.type(
    description="The result of requestLoginLink: the same whether or not the email belongs "
    "to a customer."
)
class RequestLoginLinkPayload:
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_EMAIL for a malformed address; otherwise empty."
    )


@strawberry.input(description="A one-time portal link for a customer.")
class CreateCustomerPortalSessionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer (cus_…).")
    send_email: bool = strawberry.field(
        default=False, description="Also email the link to the customer."
    )
    return_url: str | None = strawberry.field(
        default=None,
        description="Where the portal's 'back' link goes: an absolute http(s) URL, at most 2000 "
        "characters.",
    )


@strawberry.type(description="The result of createCustomerPortalSession.")
class CreateCustomerPortalSessionPayload:
    portal_session: PortalSession | None = strawberry.field(
        description="The link and when it expires; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (customer), INVALID_URL (returnUrl)."
    )


@strawberry.input(description="The token of a portal or sign-in link, to exchange once.")
class SignInInput:
    token: str = strawberry.field(description="The token from a portal or sign-in link.")
    mode: Mode | None = strawberry.field(
        default=None, description="When given, the link must belong to this mode."
    )


@strawberry.type(description="The result of signIn.")
class SignInPayload:
    session_token: str | None = strawberry.field(
        description="Send as 'Authorization: Bearer <token>'. Also set as the portal cookie."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the session ends (12 hours after sign-in); ISO 8601, UTC."
    )
    customer: Customer | None = strawberry.field(description="The customer now signed in.")
    return_url: str | None = strawberry.field(
        description="The returnUrl the merchant gave with the link; null when none."
    )
    business_id: strawberry.ID | None = strawberry.field(
        description="The business whose portal the link opens (bus_…). Also set with "
        "LINK_EXPIRED when the token is one of its links that was used or has expired, so the "
        "page can offer a new sign-in link there (requestLoginLink); null for an unknown, "
        "tampered or other-mode token. It tells nothing about any email address."
    )
    user_errors: list[UserError] = strawberry.field(
        description="LINK_EXPIRED for a used, expired, tampered or other-mode token."
    )


@strawberry.type(description="The result of signOut.")
class SignOutPayload:
    user_errors: list[UserError] = strawberry.field(description="Always empty.")


@strawberry.input(description="The token of an email-change confirmation link.")
class ConfirmEmailChangeInput:
    token: str = strawberry.field(description="The token from the link sent to the new address.")
    mode: Mode | None = strawberry.field(
        default=None, description="When given, the link must belong to this mode."
    )


@strawberry.type(description="The result of confirmEmailChange.")
class ConfirmEmailChangePayload:
    customer: Customer | None = strawberry.field(
        description="The customer with the new address; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="LINK_EXPIRED, EMAIL_TAKEN (another customer has the address), INVALID_EMAIL."
    )


@strawberry.type
class AccessMutation:
    @strawberry.mutation(
        description="Public, from the static login page: emails a one-time sign-in link (valid "
        "15 minutes by default) when the address belongs to a customer. The answer is the same "
        "either way. userErrors: INVALID_EMAIL. Limited per email and business and per client "
        "IP: a RATE_LIMITED GraphQL error."
    )
    async def request_login_link(
        self,
        info: Info[Context, None],
        input: Annotated[
            RequestLoginLinkInput,
            strawberry.argument(description="The business, the email and the page's mode."),
        ],
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
        description="Merchant: a one-time portal link for a customer of the key's mode, valid "
        "24 hours; optionally emailed. userErrors: NOT_FOUND, INVALID_URL.",
    )
    async def create_customer_portal_session(
        self,
        info: Info[Context, None],
        input: Annotated[
            CreateCustomerPortalSessionInput,
            strawberry.argument(description="The customer, and how to deliver the link."),
        ],
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

    @strawberry.mutation(
        description="Public: exchanges a link's token, once, for a portal session (a JWT valid "
        "12 hours, also set as the portal_session cookie). userErrors: LINK_EXPIRED."
    )
    async def sign_in(
        self,
        info: Info[Context, None],
        input: Annotated[SignInInput, strawberry.argument(description="The link's token.")],
    ) -> SignInPayload:
        return await payload(
            info,
            SignInPayload,
            lambda: resolve.sign_in(info.context, token=input.token, mode=input.mode),
            session_token=lambda signed: signed.token,
            expires_at=lambda signed: signed.expires_at,
            customer=lambda signed: (
                Customer.from_model(signed.customer) if signed.customer is not None else None
            ),
            return_url=lambda signed: signed.return_url,
            business_id=lambda signed: (
                strawberry.ID(signed.business_id) if signed.business_id else None
            ),
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: ends the current portal session (revoked at once) and clears "
        "the cookie. No userErrors.",
    )
    async def sign_out(self, info: Info[Context, None]) -> SignOutPayload:
        return await payload(info, SignOutPayload, lambda: resolve.sign_out(info.context))

    @strawberry.mutation(
        description="Public, the token is the credential: confirms a customer's new email "
        "address, once. userErrors: LINK_EXPIRED, EMAIL_TAKEN, INVALID_EMAIL."
    )
    async def confirm_email_change(
        self,
        info: Info[Context, None],
        input: Annotated[
            ConfirmEmailChangeInput,
            strawberry.argument(description="The confirmation link's token."),
        ],
    ) -> ConfirmEmailChangePayload:
        return await payload(
            info,
            ConfirmEmailChangePayload,
            lambda: resolve.confirm_email_change(info.context, token=input.token, mode=input.mode),
            customer=Customer.from_model,
        )
