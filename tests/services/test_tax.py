"""VAT determination and exact invoice amounts. Every expected amount is worked out by hand in
the comment beside it; amounts are minor units (cents, or yen for JPY)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from services.tax import (
    EU_MEMBER_STATES,
    Buyer,
    Exemption,
    LineInput,
    Product,
    Seller,
    TaxCategory,
    compute_amounts,
    determine_tax,
    rates_on,
    split_largest_remainder,
    vat_id_country,
)

DAY = date(2026, 3, 1)
MERCHANT = Seller(country="DE", vat_id="DE136695976")
GROSS_MERCHANT = Seller(country="DE", vat_id="DE136695976", prices_include_tax=True)
SMALL_BUSINESS = Seller(country="DE", small_business=True)
STANDARD = Product()
REDUCED = Product(TaxCategory.REDUCED)


@dataclass(frozen=True)
class Case:
    id: str
    seller: Seller
    buyer: Buyer
    product: Product
    lines: tuple[tuple[int, int], ...]  # (quantity, unit price)
    currency: str
    category: str
    rate: str
    nets: tuple[int, ...]
    tax: int
    grand_total: int
    note_de: str | None = None


# fmt: off
CASES = [
    # 1 x 10.00 net at 19 %: tax 10.00 * 0.19 = 1.90, total 11.90
    Case("domestic B2C DE", MERCHANT, Buyer("DE"), STANDARD, ((1, 1000),), "EUR",
         "S", "19", (1000,), 190, 1190),
    # a German business (DE VAT ID) pays German VAT too: 2 x 50.00 = 100.00, tax 19.00
    Case("domestic B2B DE", MERCHANT, Buyer("DE", "DE811907980"), STANDARD, ((2, 5000),), "EUR",
         "S", "19", (10000,), 1900, 11900),
    # French consumer, OSS at 20 %, gross price 12.00: tax 12.00 * 20/120 = 2.00, net 10.00
    Case("EU B2C FR gross", GROSS_MERCHANT, Buyer("FR"), STANDARD, ((1, 1200),), "EUR",
         "S", "20", (1000,), 200, 1200),
    # Austrian consumer at 20 %: 3 x 3.33 = 9.99 net, tax 1.998 -> 2.00, total 11.99
    Case("EU B2C AT net", MERCHANT, Buyer("AT"), STANDARD, ((3, 333),), "EUR",
         "S", "20", (999,), 200, 1199),
    # Dutch consumer at 21 %: 9.99 net, tax 2.0979 -> 2.10, total 12.09
    Case("EU B2C NL net", MERCHANT, Buyer("NL"), STANDARD, ((1, 999),), "EUR",
         "S", "21", (999,), 210, 1209),
    # Austrian business with a valid VAT ID: reverse charge, 2 x 50.00 = 100.00, no VAT
    Case("EU B2B AT reverse charge", MERCHANT, Buyer("AT", "ATU13585627"), STANDARD,
         ((2, 5000),), "EUR", "AE", "0", (10000,), 0, 10000,
         "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)."),
    # the same with a wrong check digit: treated as a consumer, Austrian 20 %: tax 20.00
    Case("EU B2B AT invalid VAT ID", MERCHANT, Buyer("AT", "ATU13585628"), STANDARD,
         ((2, 5000),), "EUR", "S", "20", (10000,), 2000, 12000),
    # Greek business: VAT IDs start with EL, the country is GR; reverse charge
    Case("EU B2B GR reverse charge", MERCHANT, Buyer("GR", "EL094259216"), STANDARD,
         ((1, 2500),), "EUR", "AE", "0", (2500,), 0, 2500,
         "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)."),
    # outside the EU: not subject to VAT, 10.00 stays 10.00
    Case("non-EU US", MERCHANT, Buyer("US"), STANDARD, ((1, 1000),), "EUR",
         "O", "0", (1000,), 0, 1000,
         "Nicht im Inland steuerbare Leistung: der Leistungsort liegt außerhalb der EU."),
    # a Swiss business with a Swiss VAT number is still outside the EU
    Case("non-EU CH", MERCHANT, Buyer("CH", "CHE-123.456.788"), STANDARD, ((1, 1000),), "EUR",
         "O", "0", (1000,), 0, 1000,
         "Nicht im Inland steuerbare Leistung: der Leistungsort liegt außerhalb der EU."),
    # § 19 UStG small business: no VAT, 10.00 stays 10.00
    Case("§ 19 small business", SMALL_BUSINESS, Buyer("DE"), STANDARD, ((1, 1000),), "EUR",
         "E", "0", (1000,), 0, 1000, "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."),
    # reduced rate in Germany, net: 15.00 * 0.07 = 1.05, total 16.05
    Case("reduced DE net", MERCHANT, Buyer("DE"), REDUCED, ((1, 1500),), "EUR",
         "S", "7", (1500,), 105, 1605),
    # reduced rate in Germany, gross 10.70: tax 10.70 * 7/107 = 0.70, net 10.00
    Case("reduced DE gross", GROSS_MERCHANT, Buyer("DE"), REDUCED, ((1, 1070),), "EUR",
         "S", "7", (1000,), 70, 1070),
    # yen have no minor unit: 1234 * 0.19 = 234.46 -> 234 yen, total 1468 yen
    Case("JPY net", MERCHANT, Buyer("DE"), STANDARD, ((1, 1234),), "JPY",
         "S", "19", (1234,), 234, 1468),
    # yen, gross 1000: tax 1000 * 19/119 = 159.66 -> 160 yen, net 840 yen
    Case("JPY gross", GROSS_MERCHANT, Buyer("DE"), STANDARD, ((1, 1000),), "JPY",
         "S", "19", (840,), 160, 1000),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_single_rate_invoices(case: Case) -> None:
    treatment = determine_tax(case.seller, case.buyer, case.product, DAY)
    assert treatment.category_code == case.category
    assert treatment.rate == Decimal(case.rate)
    lines = [LineInput(quantity, price, treatment) for quantity, price in case.lines]
    amounts = compute_amounts(
        lines, case.currency, prices_include_tax=case.seller.prices_include_tax
    )
    assert tuple(line.net_amount for line in amounts.lines) == case.nets
    assert amounts.line_total == sum(case.nets)
    assert amounts.tax_total == case.tax
    assert amounts.grand_total == case.grand_total
    (group,) = amounts.groups
    assert (group.category_code, group.rate) == (case.category, Decimal(case.rate))
    assert (group.taxable_amount, group.tax_amount) == (sum(case.nets), case.tax)
    assert [note.de for note in amounts.notes] == ([case.note_de] if case.note_de else [])


def test_zero_rate_categories_name_their_reason() -> None:
    reverse = determine_tax(MERCHANT, Buyer("AT", "ATU13585627"), STANDARD, DAY)
    assert reverse.exemption is not None
    assert reverse.exemption.code == "VATEX-EU-AE"
    assert reverse.exemption.reason_en == "Reverse charge"
    outside = determine_tax(MERCHANT, Buyer("US"), STANDARD, DAY)
    assert outside.exemption is not None and outside.exemption.code == "VATEX-EU-O"
    small = determine_tax(SMALL_BUSINESS, Buyer("FR"), STANDARD, DAY)
    assert small.category_code == "E" and small.exemption is not None
    assert small.exemption.code is None  # there is no VATEX code for § 19 UStG
    assert small.notes[0].en.startswith("No VAT is charged")


def test_exempt_products_carry_their_exemption_reason() -> None:
    education = Exemption("Steuerfrei nach § 4 Nr. 21 UStG", "Exempt education", "VATEX-EU-132-1I")
    treatment = determine_tax(MERCHANT, Buyer("FR"), Product(TaxCategory.EXEMPT, education), DAY)
    assert (treatment.category_code, treatment.rate, treatment.exemption) == (
        "E",
        Decimal(0),
        education,
    )
    plain = determine_tax(MERCHANT, Buyer("DE"), Product(TaxCategory.EXEMPT), DAY)
    assert plain.exemption is not None and plain.exemption.reason_de == "Steuerfreie Leistung"


def test_mixed_rates_round_per_group_not_per_line() -> None:
    standard = determine_tax(MERCHANT, Buyer("DE"), STANDARD, DAY)
    reduced = determine_tax(MERCHANT, Buyer("DE"), REDUCED, DAY)
    lines = [LineInput(1, 150, standard)] * 3 + [LineInput(1, 250, reduced)]
    amounts = compute_amounts(lines, "EUR", prices_include_tax=False)
    # 19 %: 3 x 1.50 = 4.50, tax 0.855 -> 0.86 (per line 0.285 -> 0.29, three times: 0.87)
    # 7 %: 2.50, tax 0.175 -> 0.18
    assert [(g.rate, g.taxable_amount, g.tax_amount) for g in amounts.groups] == [
        (Decimal(19), 450, 86),
        (Decimal(7), 250, 18),
    ]
    # net 7.00 + tax 1.04 = 8.04 (per-line rounding would give 1.05 tax)
    assert (amounts.line_total, amounts.tax_total, amounts.grand_total) == (700, 104, 804)


def test_gross_prices_split_the_group_net_by_largest_remainder() -> None:
    standard = determine_tax(GROSS_MERCHANT, Buyer("DE"), STANDARD, DAY)
    reduced = determine_tax(GROSS_MERCHANT, Buyer("DE"), REDUCED, DAY)
    lines = [LineInput(1, 110, standard)] * 3 + [LineInput(2, 535, reduced)]
    amounts = compute_amounts(lines, "EUR", prices_include_tax=True)
    # 19 %: gross 3 x 1.10 = 3.30, tax 3.30 * 19/119 = 0.5269 -> 0.53, net 2.77;
    #   2.77 over three equal lines is 0.9233 each: 0.92 three times = 2.76, the cent left over
    #   goes to the first line (equal remainders: earlier first) -> 0.93, 0.92, 0.92.
    #   Per line it would be 1.10 * 19/119 = 0.1756 -> 0.18 tax, three times 0.54.
    # 7 %: gross 2 x 5.35 = 10.70, tax 10.70 * 7/107 = 0.70, net 10.00
    assert [line.net_amount for line in amounts.lines] == [93, 92, 92, 1000]
    assert [(g.rate, g.taxable_amount, g.tax_amount) for g in amounts.groups] == [
        (Decimal(19), 277, 53),
        (Decimal(7), 1000, 70),
    ]
    # the customer pays exactly the gross prices: 3.30 + 10.70 = 14.00
    assert (amounts.line_total, amounts.tax_total, amounts.grand_total) == (1277, 123, 1400)


def test_largest_remainder_split() -> None:
    # 253 over 100:100:101 is 84.05, 84.05, 84.89: floors 84 each (252), the unit left goes to
    # the largest remainder (the third)
    assert split_largest_remainder(253, [100, 100, 101]) == [84, 84, 85]
    # 10 over three equal weights: 3.33 each, the one left over goes to the first
    assert split_largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    # a negative total (a refund) still adds up: -10 over 1:1:1 -> -3, -3, -4
    assert sum(split_largest_remainder(-10, [1, 1, 1])) == -10
    assert split_largest_remainder(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        split_largest_remainder(5, [1, -1])


def test_lines_of_one_category_must_agree_on_the_exemption_reason() -> None:
    a = determine_tax(MERCHANT, Buyer("DE"), Product(TaxCategory.EXEMPT), DAY)
    b = determine_tax(
        MERCHANT, Buyer("DE"), Product(TaxCategory.EXEMPT, Exemption("x", "x", "VATEX-EU-132")), DAY
    )
    with pytest.raises(ValueError, match="exemption"):
        compute_amounts(
            [LineInput(1, 100, a), LineInput(1, 100, b)], "EUR", prices_include_tax=False
        )


def test_online_vat_id_check_can_refuse_a_number() -> None:
    class Refuses:
        def is_registered(self, vat_id: str) -> bool:
            assert vat_id == "ATU13585627"
            return False

    buyer = Buyer("AT", "ATU 135 856 27")
    assert determine_tax(MERCHANT, buyer, STANDARD, DAY).category_code == "AE"
    treatment = determine_tax(MERCHANT, buyer, STANDARD, DAY, vat_checker=Refuses())
    assert (treatment.category_code, treatment.rate) == ("S", Decimal(20))


def test_below_the_oss_threshold_the_sellers_own_rate_applies() -> None:
    seller = Seller(country="DE", vat_id="DE136695976", oss=False)
    treatment = determine_tax(seller, Buyer("FR"), STANDARD, DAY)
    assert (treatment.country, treatment.rate) == ("DE", Decimal(19))


def test_reduced_rate_follows_the_buyers_country() -> None:
    # lowest reduced rate of at least 5 %: France 5.5 (not the super-reduced 2.1), Austria 10
    assert determine_tax(MERCHANT, Buyer("FR"), REDUCED, DAY).rate == Decimal("5.5")
    assert determine_tax(MERCHANT, Buyer("AT"), REDUCED, DAY).rate == Decimal(10)
    with pytest.raises(LookupError):
        determine_tax(MERCHANT, Buyer("DK"), REDUCED, DAY)  # Denmark has none


@pytest.mark.parametrize(
    ("country", "day", "standard", "reduced"),
    [
        ("FI", date(2024, 8, 31), "24", ("10", "14")),
        ("FI", date(2024, 9, 1), "25.5", ("10", "14")),
        ("FI", date(2026, 1, 1), "25.5", ("10", "13.5")),
        ("EE", date(2025, 6, 30), "22", ("9", "13")),
        ("EE", date(2025, 7, 1), "24", ("9", "13")),
        ("SK", date(2024, 12, 31), "20", ("5", "10")),
        ("SK", date(2025, 1, 1), "23", ("5", "19")),
        ("RO", date(2025, 7, 31), "19", ("5", "9")),
        ("RO", date(2025, 8, 1), "21", ("11",)),
        ("LT", date(2026, 1, 1), "21", ("5", "12")),
        ("DE", date(2026, 3, 1), "19", ("7",)),
        ("GR", date(2026, 3, 1), "24", ("6", "13")),
    ],
)
def test_rates_are_dated(country: str, day: date, standard: str, reduced: tuple[str, ...]) -> None:
    rates = rates_on(country, day)
    assert rates.standard == Decimal(standard)
    assert rates.reduced == tuple(Decimal(r) for r in reduced)


def test_the_table_covers_every_member_state_within_the_directives_bounds() -> None:
    assert len(EU_MEMBER_STATES) == 27 and "GR" in EU_MEMBER_STATES and "EL" not in EU_MEMBER_STATES
    for country in EU_MEMBER_STATES:
        rates = rates_on(country, DAY)
        assert rates.standard >= 15  # Art. 97 VAT Directive
        assert all(5 <= rate < rates.standard for rate in rates.reduced)  # Art. 98(1)
        assert all(rate < 5 for rate in rates.super_reduced)
    with pytest.raises(LookupError):
        rates_on("DE", date(2023, 12, 31))
    with pytest.raises(LookupError):
        rates_on("CH", DAY)


def test_vat_id_country() -> None:
    assert vat_id_country("EL094259216") == "GR"
    assert vat_id_country("de 136 695 976") == "DE"
    assert vat_id_country("DE136695975") is None  # check digit
    assert vat_id_country("") is None


def test_sellers_outside_the_scope_are_refused() -> None:
    with pytest.raises(ValueError):
        determine_tax(Seller(country="US"), Buyer("DE"), STANDARD, DAY)
    with pytest.raises(ValueError):
        determine_tax(Seller(country="AT", small_business=True), Buyer("AT"), STANDARD, DAY)
