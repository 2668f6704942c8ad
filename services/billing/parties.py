"""Who sells and who buys, as invoices must show them (§ 14 UStG, Art. 226 VAT Directive).

The business keeps its legal details (name, address, VAT ID and/or tax number, § 19 UStG,
whether prices include VAT); a customer keeps billing details (name, company, address, VAT ID).
An invoice copies both when it is issued (`seller_snapshot`, `buyer_snapshot`): later edits
apply to later invoices only.

Until the business has set its country, invoices carry no VAT and no e-invoice is made (the
portal worked that way before legal details existed). A buyer without a country is taken to be
in the seller's country (a domestic consumer), which is what the invoice then says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from babel import Locale

from models import Business, Customer
from models.clock import now
from services.customers import get_customer
from services.errors import ServiceError
from services.scope import Scope
from services.tax import Buyer, Seller, compact_vat_id, is_eu_member, vat_id_country

_POSTAL = re.compile(r"[A-Za-z0-9 \-]{2,20}")
_PHONE = re.compile(r"\+?[0-9 ()/\-]{5,40}")
_TERRITORIES = frozenset(
    code for code in map(str, Locale("en").territories) if len(code) == 2 and code.isalpha()
)


def _invalid(message: str, field: str, code: str = "INVALID_INPUT") -> ServiceError:
    return ServiceError(message, code=code, field=[field])


def _text(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise _invalid(f"At most {limit} characters.", field)
    return value or None


def _country(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if code not in _TERRITORIES:
        raise _invalid("A country as its ISO 3166-1 alpha-2 code, e.g. DE.", field)
    return code


def _postal_code(value: str | None, field: str) -> str | None:
    value = _text(value, field, 20)
    if value is not None and not _POSTAL.fullmatch(value):
        raise _invalid("Not a postal code.", field)
    return value


def checked_vat_id(value: str | None, field: str = "vatId") -> str | None:
    """An EU VAT ID with valid format and check digits (python-stdnum), compacted; None for
    none. An online check (VIES) is not made: no network is needed to issue an invoice."""
    if value is None or not value.strip():
        return None
    if vat_id_country(value) is None:
        raise _invalid(
            "This VAT ID is not valid: check the country prefix and the digits.",
            field,
            code="INVALID_VAT_ID",
        )
    return compact_vat_id(value)


@dataclass(frozen=True)
class LegalDetailsInput:
    legal_name: str | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    vat_id: str | None
    tax_number: str | None
    registration: str | None
    phone: str | None
    small_business: bool
    prices_include_tax: bool


async def update_legal_details(business_id: str, details: LegalDetailsInput) -> Business:
    """The business's legal details, checked as a whole, replacing the previous ones."""
    country = _country(details.country, "country")
    fields: dict[str, Any] = {
        "legal_name": _text(details.legal_name, "legalName", 200),
        "address_line1": _text(details.address_line1, "addressLine1", 200),
        "address_line2": _text(details.address_line2, "addressLine2", 200),
        "postal_code": _postal_code(details.postal_code, "postalCode"),
        "city": _text(details.city, "city", 100),
        "country": country,
        "vat_id": checked_vat_id(details.vat_id),
        "tax_number": _text(details.tax_number, "taxNumber", 40),
        "registration": _text(details.registration, "registration", 200),
        "phone": _text(details.phone, "phone", 40),
        "small_business": details.small_business,
        "prices_include_tax": details.prices_include_tax,
    }
    if fields["phone"] is not None and not _PHONE.fullmatch(fields["phone"]):
        raise _invalid("Not a phone number.", "phone")
    if country is not None:
        if not is_eu_member(country):
            raise _invalid(
                "Invoices with VAT are made for sellers established in the EU.", "country"
            )
        for name, field in (
            ("legal_name", "legalName"),
            ("address_line1", "addressLine1"),
            ("postal_code", "postalCode"),
            ("city", "city"),
        ):
            if fields[name] is None:
                raise _invalid("Required on invoices once the country is set.", field)
        if fields["vat_id"] is None and fields["tax_number"] is None:
            raise _invalid("Invoices need the seller's VAT ID or tax number.", "vatId")
        vat_country = vat_id_country(fields["vat_id"]) if fields["vat_id"] else None
        if vat_country is not None and vat_country != country:
            raise _invalid("The VAT ID is not one of the business's country.", "vatId")
    if details.small_business and country != "DE":
        raise _invalid(
            "The small business scheme (§ 19 UStG) is for businesses in Germany.",
            "smallBusiness",
        )
    await Business.filter(id=business_id).update(**fields)
    return await Business.get(id=business_id)


@dataclass(frozen=True)
class BillingDetailsInput:
    name: str | None
    company: str | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    vat_id: str | None


async def update_billing_details(
    scope: Scope, customer_id: str, details: BillingDetailsInput
) -> Customer:
    """A customer's billing details (for the invoices issued from now on)."""
    customer = await get_customer(scope, customer_id)
    fields: dict[str, Any] = {
        "billing_name": _text(details.name, "name", 200),
        "company": _text(details.company, "company", 200),
        "address_line1": _text(details.address_line1, "addressLine1", 200),
        "address_line2": _text(details.address_line2, "addressLine2", 200),
        "postal_code": _postal_code(details.postal_code, "postalCode"),
        "city": _text(details.city, "city", 100),
        "country": _country(details.country, "country"),
        "vat_id": checked_vat_id(details.vat_id),
        "updated_at": now(),
    }
    if fields["vat_id"] is not None and fields["company"] is None:
        raise _invalid("A VAT ID is given for a company: add the company's name.", "company")
    await Customer.filter(id=customer.id).update(**fields)
    await customer.refresh_from_db()
    return customer


# What invoices use


def seller_of(business: Business) -> Seller | None:
    """The business as the tax rules see it; None until it has set its country."""
    if business.country is None:
        return None
    return Seller(
        country=business.country,
        vat_id=business.vat_id,
        small_business=business.small_business,
        prices_include_tax=business.prices_include_tax,
    )


def buyer_of(customer: Customer, seller: Seller) -> Buyer:
    return Buyer(country=customer.country or seller.country, vat_id=customer.vat_id)


def seller_snapshot(business: Business) -> dict[str, Any]:
    return {
        "name": business.legal_name or business.name,
        "address_line1": business.address_line1,
        "address_line2": business.address_line2,
        "postal_code": business.postal_code,
        "city": business.city,
        "country": business.country,
        "vat_id": business.vat_id,
        "tax_number": business.tax_number,
        "registration": business.registration,
        "phone": business.phone,
        "email": business.support_email,
        "small_business": business.small_business,
    }


def buyer_snapshot(customer: Customer, seller: Seller | None) -> dict[str, Any]:
    country = customer.country or (seller.country if seller else None)
    return {
        "name": customer.billing_name or customer.name or customer.email,
        "company": customer.company,
        "address_line1": customer.address_line1,
        "address_line2": customer.address_line2,
        "postal_code": customer.postal_code,
        "city": customer.city,
        "country": country,
        "vat_id": customer.vat_id,
        "email": customer.email,
    }
