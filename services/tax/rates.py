"""VAT rates of the EU member states, dated: a change of rate is a new row, never an edit.

Sources (read 2026): the European Commission's list of rates reported by the member states
(Taxes in Europe Database, https://taxation-customs.ec.europa.eu/taxation/vat/vat-directive/vat-rates_en,
situation at 1 January 2024 and 1 January 2025), and for each change since then the national
publication or the tax advisers' notes on it:

- CZ 2024-01-01: the reduced rates 10 % and 15 % merged into one 12 % rate (consolidation package).
- EE 2024-01-01: standard 20 % -> 22 %. 2025-01-01: accommodation 9 % -> 13 %, press 5 % -> 9 %
  (Estonian Tax and Customs Board). 2025-07-01: standard 22 % -> 24 % (VAT Act amendment for
  defence spending).
- FI 2024-09-01: standard 24 % -> 25.5 % (Finnish Tax Administration). 2026-01-01: reduced
  14 % -> 13.5 % (Ministry of Finance bill VM043:00/2025, passed with the 2026 budget).
- LU 2024-01-01: back to 17 / 14 / 8 / 3 % after the temporary cut of 2023.
- SK 2025-01-01: standard 20 % -> 23 %, reduced 10 % replaced by 19 %, 5 % kept (Act 278/2024).
- RO 2025-08-01: standard 19 % -> 21 %, reduced 5 % and 9 % merged into 11 %
  (Law 141/2025, Monitorul Oficial 699 of 2025-07-25).
- LT 2026-01-01: reduced 9 % replaced by 12 %, 5 % kept (Law XV-287 amending Art. 19 of the VAT
  Law, Seimas press release of 2025-06-17).

Keys are ISO 3166-1 alpha-2 country codes: Greece is "GR" here, although its VAT numbers start
with "EL" (see `vat_prefix_country`). Only the mainland rates are listed: Portugal's Azores and
Madeira, Greece's islands, and territories outside the EU VAT area (Canary Islands, Åland, …)
are not modelled. Zero rates and the parking rate are not listed either: the parking rate of
AT, BE, IE, LU and PT equals one of their reduced rates.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache


@dataclass(frozen=True)
class VatRates:
    """The rates of one member state from `valid_from` until the next row of that country."""

    country: str
    valid_from: date
    standard: Decimal
    reduced: tuple[Decimal, ...]  # ascending, each at least 5 %
    super_reduced: tuple[Decimal, ...] = ()  # below 5 % (Art. 98(2) VAT Directive)


# country, valid from, standard, reduced rates, super-reduced rates
_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    ("AT", "2024-01-01", "20", "10 13", ""),
    ("BE", "2024-01-01", "21", "6 12", ""),
    ("BG", "2024-01-01", "20", "9", ""),
    ("CY", "2024-01-01", "19", "5 9", ""),
    ("CZ", "2024-01-01", "21", "12", ""),
    ("DE", "2024-01-01", "19", "7", ""),
    ("DK", "2024-01-01", "25", "", ""),
    ("EE", "2024-01-01", "22", "5 9", ""),
    ("EE", "2025-01-01", "22", "9 13", ""),
    ("EE", "2025-07-01", "24", "9 13", ""),
    ("ES", "2024-01-01", "21", "10", "4"),
    ("FI", "2024-01-01", "24", "10 14", ""),
    ("FI", "2024-09-01", "25.5", "10 14", ""),
    ("FI", "2026-01-01", "25.5", "10 13.5", ""),
    ("FR", "2024-01-01", "20", "5.5 10", "2.1"),
    ("GR", "2024-01-01", "24", "6 13", ""),
    ("HR", "2024-01-01", "25", "5 13", ""),
    ("HU", "2024-01-01", "27", "5 18", ""),
    ("IE", "2024-01-01", "23", "9 13.5", "4.8"),
    ("IT", "2024-01-01", "22", "5 10", "4"),
    ("LT", "2024-01-01", "21", "5 9", ""),
    ("LT", "2026-01-01", "21", "5 12", ""),
    ("LU", "2024-01-01", "17", "8 14", "3"),
    ("LV", "2024-01-01", "21", "5 12", ""),
    ("MT", "2024-01-01", "18", "5 7", ""),
    ("NL", "2024-01-01", "21", "9", ""),
    ("PL", "2024-01-01", "23", "5 8", ""),
    ("PT", "2024-01-01", "23", "6 13", ""),
    ("RO", "2024-01-01", "19", "5 9", ""),
    ("RO", "2025-08-01", "21", "11", ""),
    ("SE", "2024-01-01", "25", "6 12", ""),
    ("SI", "2024-01-01", "22", "5 9.5", ""),
    ("SK", "2024-01-01", "20", "5 10", ""),
    ("SK", "2025-01-01", "23", "5 19", ""),
)

EU_MEMBER_STATES: frozenset[str] = frozenset(row[0] for row in _ROWS)


def _decimals(text: str) -> tuple[Decimal, ...]:
    return tuple(sorted(Decimal(part) for part in text.split()))


@lru_cache(maxsize=1)
def rate_table() -> dict[str, tuple[VatRates, ...]]:
    """Every row, per country, oldest first."""
    table: dict[str, list[VatRates]] = {}
    for country, valid_from, standard, reduced, super_reduced in _ROWS:
        table.setdefault(country, []).append(
            VatRates(
                country=country,
                valid_from=date.fromisoformat(valid_from),
                standard=Decimal(standard),
                reduced=_decimals(reduced),
                super_reduced=_decimals(super_reduced),
            )
        )
    return {
        country: tuple(sorted(rows, key=lambda row: row.valid_from))
        for country, rows in table.items()
    }


def is_eu_member(country: str) -> bool:
    return country.upper() in EU_MEMBER_STATES


def rates_on(country: str, day: date) -> VatRates:
    """The rates in force in `country` on `day` (the date the supply is made)."""
    rows = rate_table().get(country.upper())
    if rows is None:
        raise LookupError(f"{country!r} is not an EU member state")
    index = bisect_right([row.valid_from for row in rows], day)
    if index == 0:
        raise LookupError(f"no VAT rates for {country} before {rows[0].valid_from.isoformat()}")
    return rows[index - 1]


def vat_prefix_country(prefix: str) -> str:
    """The ISO country of a VAT number prefix: "EL" is Greece ("GR"), the others are themselves."""
    upper = prefix.upper()
    return "GR" if upper == "EL" else upper
