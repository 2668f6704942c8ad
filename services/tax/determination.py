"""Which VAT an invoice line carries: from the seller, the buyer, the product and the date.

The rules, in the order they are applied (a seller established in the EU, supplying
electronic services or other B2B general-rule services; goods are not modelled):

1. Buyer outside the EU (GB and XI included): not subject to EU VAT, category O
   (VATEX-EU-O), with a note. The place of supply is the buyer's country (Art. 44 and 58 of
   Directive 2006/112/EC).
2. Seller is a German small business (§ 19 UStG): no VAT, category E, with the statutory note.
3. Product exempt from VAT: category E with the product's exemption reason.
4. Buyer with a VAT ID whose format and check digits are valid (python-stdnum), registered in
   another member state than the seller: reverse charge, 0 %, category AE (VATEX-EU-AE), with
   the note § 14a UStG and Art. 226(11a) of the Directive require. An optional `VatIdChecker`
   (a VIES look-up, say) can refuse the number; none is used unless one is passed.
5. Otherwise VAT is charged, category S (or Z at a zero rate): at the rate of the buyer's
   country for a consumer in another member state (One-Stop-Shop, Art. 58), unless the seller
   stays below the EUR 10,000 threshold of Art. 59c (`Seller.oss=False`); else at the seller's
   country's rate (domestic sales, B2B included).

A REDUCED product takes the lowest reduced rate (at least 5 %) of the country whose VAT applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from services.tax.rates import is_eu_member, rates_on, vat_prefix_country

ZERO = Decimal(0)


class TaxCategory(StrEnum):
    """How a product is taxed, as the merchant configures it."""

    STANDARD = "standard"
    REDUCED = "reduced"
    EXEMPT = "exempt"


@dataclass(frozen=True)
class Note:
    """A text the invoice must carry, in German and English."""

    de: str
    en: str

    def text(self, language: str) -> str:
        return self.de if language == "de" else self.en


@dataclass(frozen=True)
class Exemption:
    """Why a supply carries no VAT: text (BT-120) and, where one exists, VATEX code (BT-121)."""

    reason_de: str
    reason_en: str
    code: str | None = None

    def reason(self, language: str) -> str:
        return self.reason_de if language == "de" else self.reason_en


@dataclass(frozen=True)
class Seller:
    country: str  # ISO 3166-1 alpha-2, an EU member state
    vat_id: str | None = None
    small_business: bool = False  # § 19 UStG; only for sellers in Germany
    prices_include_tax: bool = False  # the merchant's prices are gross (B2C shops) or net
    oss: bool = True  # charges EU consumers their own country's VAT (One-Stop-Shop)


@dataclass(frozen=True)
class Buyer:
    country: str  # ISO 3166-1 alpha-2
    vat_id: str | None = None  # given: the buyer says it buys as a business


@dataclass(frozen=True)
class Product:
    category: TaxCategory = TaxCategory.STANDARD
    exemption: Exemption | None = None  # for EXEMPT: why (e.g. VATEX-EU-132-1I, education)


@dataclass(frozen=True)
class TaxTreatment:
    """The VAT of one invoice line, in EN 16931's terms."""

    category_code: str  # UNTDID 5305 as EN 16931 uses it: S, Z, E, AE, O
    rate: Decimal  # percent; 0 for Z, E, AE and O
    country: str | None  # whose VAT is charged; None where none is (AE, O)
    exemption: Exemption | None = None  # required for E, AE and O (BR-E-10, BR-AE-10, BR-O-10)
    notes: tuple[Note, ...] = ()


class VatIdChecker(Protocol):
    """An online check of a VAT ID (e.g. VIES); False means not registered."""

    def is_registered(self, vat_id: str) -> bool: ...


SMALL_BUSINESS_NOTE = Note(
    de="Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
    en="No VAT is charged: small business scheme under § 19 UStG (German VAT Act).",
)
SMALL_BUSINESS = Exemption(
    reason_de="Kleinunternehmer gemäß § 19 UStG",
    reason_en="Small business exempt from VAT under § 19 UStG",
)
REVERSE_CHARGE_NOTE = Note(
    de="Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge).",
    en="Reverse charge: the recipient is liable for the VAT (Art. 196 Directive 2006/112/EC).",
)
REVERSE_CHARGE = Exemption(
    reason_de="Steuerschuldnerschaft des Leistungsempfängers",
    reason_en="Reverse charge",
    code="VATEX-EU-AE",
)
NOT_SUBJECT_NOTE = Note(
    de="Nicht im Inland steuerbare Leistung: der Leistungsort liegt außerhalb der EU.",
    en="Not subject to EU VAT: the place of supply is outside the EU.",
)
NOT_SUBJECT = Exemption(
    reason_de="Nicht steuerbar",
    reason_en="Not subject to VAT",
    code="VATEX-EU-O",
)
EXEMPT_DEFAULT = Exemption(reason_de="Steuerfreie Leistung", reason_en="Exempt from VAT")


def vat_id_country(vat_id: str | None) -> str | None:
    """The ISO country of a VAT ID with valid format and check digits, else None."""
    if not vat_id:
        return None
    try:
        number = eu_vat.validate(vat_id)
    except ValidationError:
        return None
    return vat_prefix_country(number[:2])


def compact_vat_id(vat_id: str) -> str:
    """The VAT ID without spaces, dots or dashes, as it goes on an invoice: "DE 136 695 976" ->
    "DE136695976"."""
    return eu_vat.compact(vat_id)


def determine_tax(
    seller: Seller,
    buyer: Buyer,
    product: Product,
    on: date,
    *,
    vat_checker: VatIdChecker | None = None,
) -> TaxTreatment:
    """The VAT of a supply of `product` by `seller` to `buyer` made on `on` (see module doc)."""
    seller_country = seller.country.upper()
    buyer_country = buyer.country.upper()
    if not is_eu_member(seller_country):
        raise ValueError(f"seller country {seller.country!r} is not an EU member state")
    if seller.small_business and seller_country != "DE":
        raise ValueError("the § 19 UStG small business scheme applies to sellers in Germany")

    if not is_eu_member(buyer_country):
        return TaxTreatment("O", ZERO, None, NOT_SUBJECT, (NOT_SUBJECT_NOTE,))
    if seller.small_business:
        return TaxTreatment("E", ZERO, seller_country, SMALL_BUSINESS, (SMALL_BUSINESS_NOTE,))
    if product.category is TaxCategory.EXEMPT:
        return TaxTreatment("E", ZERO, seller_country, product.exemption or EXEMPT_DEFAULT)

    business_country = vat_id_country(buyer.vat_id)
    if business_country is not None and not is_eu_member(business_country):
        business_country = None  # XI: Northern Ireland is outside the EU for services
    if (
        business_country is not None
        and vat_checker is not None
        and not vat_checker.is_registered(compact_vat_id(buyer.vat_id or ""))
    ):
        business_country = None
    if business_country is not None and business_country != seller_country:
        return TaxTreatment("AE", ZERO, None, REVERSE_CHARGE, (REVERSE_CHARGE_NOTE,))

    consumer_abroad = business_country is None and buyer_country != seller_country
    country = buyer_country if consumer_abroad and seller.oss else seller_country
    rates = rates_on(country, on)
    if product.category is TaxCategory.REDUCED:
        if not rates.reduced:
            raise LookupError(f"{country} has no reduced VAT rate")
        rate = rates.reduced[0]
    else:
        rate = rates.standard
    return TaxTreatment("Z" if rate == ZERO else "S", rate, country)
