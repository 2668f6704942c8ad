"""A business's settings: the merchant's `updateBusiness`, and the public `portalBranding` that
the static login page reads (it has no session yet)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import business_settings as resolve
from resolvers.context import Context
from schema.errors import UserError, payload
from schema.merchant import given
from schema.permissions import MERCHANT
from schema.types import Branding, Business


@strawberry.input(
    description="Changes to the business, all at once: omitted fields stay as they are."
)
class UpdateBusinessInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Not empty, at most 200 characters."
    )
    support_email: str | None = strawberry.field(
        default=strawberry.UNSET, description="A valid email address."
    )
    locale: str | None = strawberry.field(default=strawberry.UNSET, description="en or de.")
    logo_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="https, at most 500 characters; null removes the logo.",
    )
    accent_color: str | None = strawberry.field(
        default=strawberry.UNSET, description="#RRGGBB; null returns to the portal's default."
    )


@strawberry.type(description="The result of updateBusiness.")
class UpdateBusinessPayload:
    business: Business | None = strawberry.field(
        description="The business as it is now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_NAME, TOO_LONG (name), INVALID_EMAIL (supportEmail), "
        "INVALID_LOCALE, INVALID_URL (logoUrl), INVALID_COLOR (accentColor)."
    )


@strawberry.input(description="GraphQL documents (queries, mutations) a frontend sends.")
class RegisterTrustedDocumentsInput:
    documents: list[str] = strawberry.field(
        description="1 to 100 documents, each GraphQL syntax of at most 65,536 characters, "
        "registered exactly as the client sends them (the hash is of the exact text)."
    )


@strawberry.type(description="The result of registerTrustedDocuments.")
class RegisterTrustedDocumentsPayload:
    document_ids: list[str] | None = strawberry.field(
        description="Each document's SHA-256 as 64 lowercase hex digits, in the order given: "
        "what a client sends as extensions.persistedQuery.sha256Hash; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_DOCUMENT (not GraphQL syntax, or none given), TOO_LONG, "
        "TOO_MANY_DOCUMENTS; field names the document (documents.<index>)."
    )


@strawberry.type
class BusinessSettingsQuery:
    @strawberry.field(
        description="Public: how a business's static login page looks; null for an unknown id."
    )
    async def portal_branding(
        self,
        info: Info[Context, None],
        business_id: Annotated[
            strawberry.ID, strawberry.argument(description="The business (bus_…).")
        ],
    ) -> Branding | None:
        values = await resolve.portal_branding(info.context, str(business_id))
        return Branding.from_values(values) if values is not None else None


@strawberry.type
class BusinessSettingsMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: name, support email, language, logo and accent colour (shared by "
        "both modes). userErrors: INVALID_NAME, TOO_LONG, INVALID_EMAIL, INVALID_LOCALE, "
        "INVALID_URL, INVALID_COLOR.",
    )
    async def update_business(
        self,
        info: Info[Context, None],
        input: Annotated[UpdateBusinessInput, strawberry.argument(description="The changes.")],
    ) -> UpdateBusinessPayload:
        changes = given(input, "name", "support_email", "locale", "logo_url", "accent_color")
        return await payload(
            info,
            UpdateBusinessPayload,
            lambda: resolve.update_business(info.context, changes),
            business=Business.from_profile,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: registers the documents the business's frontends send. With "
        "PORTAL_TRUSTED_DOCUMENTS on, /graphql executes only registered documents (sent by "
        "text or by extensions.persistedQuery.sha256Hash), for every caller; the hosted pages "
        "are not affected. A registration is permanent and shared (a document is only text: "
        "who may run it is still decided by the caller's key or session). Registering a "
        "document again changes nothing. userErrors: INVALID_DOCUMENT, TOO_LONG, "
        "TOO_MANY_DOCUMENTS.",
    )
    async def register_trusted_documents(
        self,
        info: Info[Context, None],
        input: Annotated[
            RegisterTrustedDocumentsInput, strawberry.argument(description="The documents.")
        ],
    ) -> RegisterTrustedDocumentsPayload:
        documents = list(input.documents)
        return await payload(
            info,
            RegisterTrustedDocumentsPayload,
            lambda: resolve.register_trusted_documents(info.context, documents),
            document_ids=lambda hashes: hashes,
        )
