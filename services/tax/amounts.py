"""Invoice amounts, exact to the minor unit of the currency.

Every amount is an integer number of minor units (EUR cents, JPY yen: a zero-decimal currency);
rates are `Decimal` percentages. Rounding is half up (ties away from zero) to the minor unit,
and it happens once per VAT rate group, never per line:

- Line net amounts are exact: quantity * unit price.
- Net prices (tax-exclusive): the lines of one VAT category and rate form a group; the group's
  tax = round_half_up(sum of the group's line nets * rate / 100). This is what EN 16931 requires:
  the VAT breakdown's tax is its taxable amount * rate (BR-CO-17, BR-S-09 and the like for each
  category), and the taxable amount is the sum of the line nets (BR-S-08 and the like).
- Gross prices (tax-inclusive): the group's gross G is the sum of its lines' quantity * unit
  price; its tax = round_half_up(G * rate / (100 + rate)) and its net = G - tax, so the customer
  pays exactly the prices shown. The group net is split back onto the lines in proportion to
  their gross by the largest remainder method (each line gets the floor of its exact share, the
  units left over go to the largest fractional parts, earlier lines first on a tie), so the line
  nets add up exactly to the group net.
- Totals: sum of line nets (BT-106 = BT-109, there are no document-level allowances or charges),
  tax total = sum of the groups' tax (BT-110), grand total = the two added (BT-112).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from services.money import minor_unit_digits
from services.tax.determination import Exemption, Note, TaxTreatment

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineInput:
    quantity: int
    unit_price: int  # minor units; net or gross as `compute_amounts(prices_include_tax=…)` says
    tax: TaxTreatment


@dataclass(frozen=True)
class LineAmounts:
    quantity: int
    unit_price: int  # as given (net or gross)
    net_amount: int  # BT-131
    tax: TaxTreatment


@dataclass(frozen=True)
class TaxGroup:
    """One VAT breakdown (BG-23): the lines of one category and rate."""

    category_code: str
    rate: Decimal
    taxable_amount: int  # BT-116
    tax_amount: int  # BT-117
    exemption: Exemption | None


@dataclass(frozen=True)
class InvoiceAmounts:
    currency: str
    prices_include_tax: bool
    lines: tuple[LineAmounts, ...]
    groups: tuple[TaxGroup, ...]
    line_total: int  # BT-106 and BT-109
    tax_total: int  # BT-110
    grand_total: int  # BT-112
    notes: tuple[Note, ...]  # every line's notes, once each, in order of first use


def round_half_up(value: Decimal) -> int:
    """To the nearest integer, ties away from zero: 2.5 -> 3, -2.5 -> -3."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def tax_of_net(net: int, rate: Decimal) -> int:
    return round_half_up(Decimal(net) * rate / HUNDRED)


def tax_of_gross(gross: int, rate: Decimal) -> int:
    return round_half_up(Decimal(gross) * rate / (HUNDRED + rate))


def split_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` into integers that add up to `total` exactly."""
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total == 0 and not any(weights):
            return [0] * len(weights)
        raise ValueError("cannot split an amount over lines whose amounts add up to zero")
    sign = -1 if weight_sum < 0 else 1
    shares = [divmod(total * w * sign, weight_sum * sign) for w in weights]
    result = [quotient for quotient, _ in shares]
    left = total - sum(result)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
    for index in by_remainder[:left]:
        result[index] += 1
    return result


def _group_key(tax: TaxTreatment) -> tuple[str, Decimal]:
    return tax.category_code, tax.rate


def compute_amounts(
    lines: Sequence[LineInput], currency: str, *, prices_include_tax: bool
) -> InvoiceAmounts:
    """Line nets, VAT breakdown and totals of an invoice (see the module doc for the rule)."""
    code = currency.upper()
    minor_unit_digits(code)  # unknown currencies fail here, before any arithmetic
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise TypeError("quantities are integers")
        if isinstance(line.unit_price, bool) or not isinstance(line.unit_price, int):
            raise TypeError("prices are integers in the currency's minor unit")

    members: dict[tuple[str, Decimal], list[int]] = {}
    for index, line in enumerate(lines):
        members.setdefault(_group_key(line.tax), []).append(index)

    nets = [line.quantity * line.unit_price for line in lines]
    groups: list[TaxGroup] = []
    for (category, rate), indexes in members.items():
        exemptions = {lines[i].tax.exemption for i in indexes}
        if len(exemptions) > 1:
            raise ValueError(
                f"lines of VAT category {category} give different exemption reasons; "
                "an invoice states one reason per category"
            )
        amounts = [nets[i] for i in indexes]
        if prices_include_tax:
            gross = sum(amounts)
            tax = tax_of_gross(gross, rate)
            for i, net in zip(indexes, split_largest_remainder(gross - tax, amounts), strict=True):
                nets[i] = net
            taxable = gross - tax
        else:
            taxable = sum(amounts)
            tax = tax_of_net(taxable, rate)
        groups.append(TaxGroup(category, rate, taxable, tax, exemptions.pop()))

    notes: list[Note] = []
    for line in lines:
        notes.extend(note for note in line.tax.notes if note not in notes)
    line_total = sum(nets)
    tax_total = sum(group.tax_amount for group in groups)
    return InvoiceAmounts(
        currency=code,
        prices_include_tax=prices_include_tax,
        lines=tuple(
            LineAmounts(line.quantity, line.unit_price, net, line.tax)
            for line, net in zip(lines, nets, strict=True)
        ),
        groups=tuple(groups),
        line_total=line_total,
        tax_total=tax_total,
        grand_total=line_total + tax_total,
        notes=tuple(notes),
    )
