"""The customer's own portal: who they are and their profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import Customer
from resolvers.context import Context
from services import customers
from services.access import links
from services.portal_settings import CustomerAction, require_customer_may_in
from services.sql import Row
from services.validation import email_key, normalize_email


@dataclass(frozen=True)
class ProfileUpdate:
    customer: Customer
    email_confirmation_sent: bool


async def me(ctx: Context) -> Row:
    return await customers.get_customer_row(ctx.customer_scope(), ctx.customer_id)


async def update_profile(ctx: Context, changes: dict[str, Any]) -> ProfileUpdate:
    """Name and phone change at once; a new email only after its confirmation link is followed."""
    scope = ctx.customer_scope()
    assert scope.customer_id is not None
    # The language is the portal's, not the customer's details: always theirs to choose.
    if set(changes) - {"locale"}:
        await require_customer_may_in(scope, CustomerAction.EDIT_PROFILE)
    new_email = changes.pop("email", None)
    if new_email is not None:
        new_email = normalize_email(new_email)
    current = await customers.get_customer(scope, scope.customer_id)
    # Validate everything before changing anything.
    customer = current
    if changes:
        customer = await customers.update_customer(scope, scope.customer_id, **changes)
    sent = False
    if new_email is not None and email_key(new_email) != current.email_normalized:
        await links.start_email_change(ctx.settings, customer, new_email)
        sent = True
    return ProfileUpdate(customer, sent)
