"""VAT: which rate and category an invoice line carries, and the invoice's exact amounts.

Pure functions over dataclasses: no database, no network (an online VAT ID check is an optional
hook). `determine_tax` decides per line, `compute_amounts` adds an invoice up; the rounding rule
is written out in `services.tax.amounts`.
"""

from services.tax.amounts import (
    InvoiceAmounts,
    LineAmounts,
    LineInput,
    TaxGroup,
    compute_amounts,
    round_half_up,
    split_largest_remainder,
)
from services.tax.determination import (
    Buyer,
    Exemption,
    Note,
    Product,
    Seller,
    TaxCategory,
    TaxTreatment,
    VatIdChecker,
    compact_vat_id,
    determine_tax,
    vat_id_country,
)
from services.tax.rates import EU_MEMBER_STATES, VatRates, is_eu_member, rates_on

__all__ = [
    "EU_MEMBER_STATES",
    "Buyer",
    "Exemption",
    "InvoiceAmounts",
    "LineAmounts",
    "LineInput",
    "Note",
    "Product",
    "Seller",
    "TaxCategory",
    "TaxGroup",
    "TaxTreatment",
    "VatIdChecker",
    "VatRates",
    "compact_vat_id",
    "compute_amounts",
    "determine_tax",
    "is_eu_member",
    "rates_on",
    "round_half_up",
    "split_largest_remainder",
    "vat_id_country",
]
