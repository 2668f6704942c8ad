"""Who may call a field, declared where the field is: a merchant's API key, a customer's portal
session, or either. Fields without one are public (the static login page, signing in, the
license-key API licensed software calls with nothing but the key)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from resolvers.context import Context

UNAUTHENTICATED = {"code": "UNAUTHENTICATED"}


class MerchantKey(BasePermission):
    message = "This needs a merchant API key (Authorization: Bearer sk_…)."
    error_extensions = UNAUTHENTICATED

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return info.context.is_merchant


class PortalSession(BasePermission):
    message = "This needs a portal session. Sign in through a portal link."
    error_extensions = UNAUTHENTICATED

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return info.context.is_customer


class SignedIn(BasePermission):
    message = "This needs an API key or a portal session."
    error_extensions = UNAUTHENTICATED

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return info.context.is_signed_in


MERCHANT: list[type[BasePermission]] = [MerchantKey]
CUSTOMER: list[type[BasePermission]] = [PortalSession]
SIGNED_IN: list[type[BasePermission]] = [SignedIn]
