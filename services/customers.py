"""Customers of a business, in one mode. Emails are unique there, case-insensitively."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Customer
from models.clock import now
from models.ids import well_formed
from services.errors import NotFound, ServiceError
from services.events import customer_event
from services.pagination import OrmPageQuery, Page, keyset_page
from services.scope import Scope
from services.sql import Row, fetch_rows, typed
from services.validation import clean_name, email_key, normalize_email, normalize_phone

UNSET = object()
# What a customer's view shows.
CUSTOMER_COLUMNS = ("id", "email", "name", "phone_number", "locale", "created_at")
MAX_EMAIL_LENGTH = 320
LOCALES = ("en", "de")


def email_taken() -> ServiceError:
    return ServiceError(
        "Another customer already uses this email address.", code="EMAIL_TAKEN", field=["email"]
    )


async def get_customer(scope: Scope, customer_id: str) -> Customer:
    """Within the scope only; someone else's customer is NOT_FOUND like a missing one."""
    if scope.customer_id is not None and scope.customer_id != customer_id:
        raise NotFound("customer")
    customer = (
        await Customer.get_or_none(id=customer_id, business_id=scope.business_id, mode=scope.mode)
        if well_formed(customer_id, "cus")
        else None
    )
    if customer is None:
        raise NotFound("customer", field=["customerId"])
    return customer


async def get_customer_row(scope: Scope, customer_id: str) -> Row:
    """`get_customer` as a row (services/sql.py), for reads that need no model behaviour."""
    if scope.customer_id is not None and scope.customer_id != customer_id:
        raise NotFound("customer")
    rows = await fetch_rows(
        f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customer "  # noqa: S608
        "WHERE id = ? AND business_id = ? AND mode = ?",
        [customer_id, scope.business_id, scope.mode],
    )
    if not rows:
        raise NotFound("customer", field=["customerId"])
    return typed(Customer, rows[0])


async def find_customer_by_email(scope: Scope, email: str) -> Customer | None:
    return await Customer.get_or_none(
        business_id=scope.business_id, mode=scope.mode, email_normalized=email_key(email)
    )


async def list_customers(
    scope: Scope, first: int | None, after: str | None, email: str | None = None
) -> Page[Row]:
    query = Customer.filter(business_id=scope.business_id, mode=scope.mode)
    if email is not None:
        if len(email) > MAX_EMAIL_LENGTH:
            raise ServiceError(
                f"An email address has at most {MAX_EMAIL_LENGTH} characters.",
                code="BAD_USER_INPUT",
                field=["email"],
            )
        query = query.filter(email_normalized=email_key(email.strip()))
    return await keyset_page(OrmPageQuery(query, CUSTOMER_COLUMNS), first, after)


async def create_customer(
    scope: Scope, *, email: str, name: str | None = None, phone_number: str | None = None
) -> Customer:
    email = normalize_email(email)
    fields: dict[str, Any] = {
        "email": email,
        "email_normalized": email_key(email),
        "name": clean_name(name) if name and name.strip() else None,
        "phone_number": normalize_phone(phone_number) if phone_number else None,
    }
    if await find_customer_by_email(scope, email) is not None:
        raise email_taken()
    try:
        async with in_transaction():
            customer = await Customer.create(
                business_id=scope.business_id, mode=scope.mode, **fields
            )
            await customer_event("customer.created", customer)
            return customer
    except IntegrityError as exc:  # lost a race with a concurrent create
        raise email_taken() from exc


async def update_customer(
    scope: Scope,
    customer_id: str,
    *,
    email: object = UNSET,
    name: object = UNSET,
    phone_number: object = UNSET,
    locale: object = UNSET,
) -> Customer:
    """The merchant's edit: every field changes at once (the merchant vouches for the email)."""
    changes: dict[str, object] = {}
    if locale is not UNSET:
        if locale is not None and locale not in LOCALES:
            raise ServiceError(
                "The language must be en or de.", code="INVALID_LOCALE", field=["locale"]
            )
        changes["locale"] = locale
    if email is not UNSET:
        if not isinstance(email, str):
            raise ServiceError("email cannot be empty.", code="INVALID_EMAIL", field=["email"])
        normalized = normalize_email(email)
        changes.update(email=normalized, email_normalized=email_key(normalized))
    if name is not UNSET:
        changes["name"] = clean_name(name) if isinstance(name, str) and name.strip() else None
    if phone_number is not UNSET:
        changes["phone_number"] = (
            normalize_phone(phone_number)
            if isinstance(phone_number, str) and phone_number
            else None
        )
    async with in_transaction():
        customer = await get_customer(scope, customer_id)
        if (
            "email_normalized" in changes
            and changes["email_normalized"] != customer.email_normalized
        ):
            other = await find_customer_by_email(scope, str(changes["email"]))
            if other is not None and other.id != customer.id:
                raise email_taken()
        if changes:
            changes["updated_at"] = now()
            try:
                await Customer.filter(id=customer.id).update(**changes)
            except IntegrityError as exc:
                raise email_taken() from exc
            await customer.refresh_from_db()
            await customer_event("customer.updated", customer)
    return customer
