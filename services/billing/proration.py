"""What a plan change costs: the rule (also in the README, "Plan changes").

A subscription pays for the period [current_period_start, next_billing_date). Time is counted in
whole seconds: `remaining` = seconds from the change to the period end (a started second counts
as used), `total` = seconds of the whole period. A prorated amount is
round_half_up(price * remaining / total) in the currency's minor unit (ties away from zero), so
exact to the cent (EUR) or to the yen (JPY). Prices are as the merchant sets them (net or
gross); VAT is added by invoicing (services/tax) on the invoice's lines.

- Same billing period (interval and interval count equal), higher price: an UPGRADE, now. The
  period stays; the credit is the unused part of the current price, the charge the same part of
  the new price; what is due now is the invoice of those two lines.
- Same billing period, lower or equal price: a DOWNGRADE, at the period end (nothing due now).
- A longer billing period (e.g. monthly to yearly): an UPGRADE, now. A new period starts now;
  the credit is the unused part of the current price, the charge the new price in full. If the
  credit is not smaller than the charge, it is a DOWNGRADE at the period end instead.
- A shorter billing period (e.g. yearly to monthly): a DOWNGRADE, at the period end.

A downgrade changes price, interval and product at the period end, before that renewal is
charged (the renewal run applies it), and can be taken back until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models import PlanChangeKind, Product, Subscription, TimeInterval
from services.billing.periods import add_interval

# Only to tell a longer billing period from a shorter one.
_NOMINAL_DAYS = {
    TimeInterval.DAY: 1,
    TimeInterval.WEEK: 7,
    TimeInterval.MONTH: 30,
    TimeInterval.YEAR: 365,
}


def prorate(amount: int, remaining: int, total: int) -> int:
    """round_half_up(amount * remaining / total) for amount >= 0, exactly in integers."""
    if total <= 0:
        return 0
    remaining = min(max(remaining, 0), total)
    return (2 * amount * remaining + total) // (2 * total)


def whole_seconds(delta: timedelta) -> int:
    return delta // timedelta(seconds=1)


@dataclass(frozen=True)
class Proration:
    kind: PlanChangeKind
    effective_at: datetime
    credit: int  # the unused part of the current price (as priced), >= 0; 0 for a downgrade
    charge: int  # the new plan's part (same period) or its full price (a new period)
    remaining_seconds: int
    total_seconds: int
    # The new plan's line on the invoice, and the subscription's period after the change.
    period_start: datetime
    period_end: datetime
    new_period: bool  # a new billing period starts now (a longer interval)
    next_billing_date: datetime
    next_price: int  # the renewal after the change (as priced)


def _length(interval: TimeInterval, count: int) -> int:
    return _NOMINAL_DAYS[interval] * count


def plan_change_terms(subscription: Subscription, product: Product, at: datetime) -> Proration:
    """How changing `subscription` to `product` at `at` goes, by the rule above."""
    assert product.interval is not None
    start = subscription.current_period_start or at
    end = subscription.next_billing_date or at
    total = whole_seconds(end - start)
    remaining = min(max(whole_seconds(end - at), 0), max(total, 0))
    old_price = subscription.price_amount
    new_price = product.price_amount
    new_count = product.interval_count or 1
    credit = prorate(old_price, remaining, total)
    downgrade = Proration(
        PlanChangeKind.DOWNGRADE, end, 0, 0, remaining, total, end, end, False, end, new_price
    )
    same_period = (product.interval, new_count) == (
        subscription.interval,
        subscription.interval_count,
    )
    if same_period:
        if new_price <= old_price:
            return downgrade
        charge = prorate(new_price, remaining, total)
        return Proration(
            PlanChangeKind.UPGRADE,
            at,
            credit,
            charge,
            remaining,
            total,
            at,
            end,
            False,
            end,
            new_price,
        )
    longer = _length(product.interval, new_count) > _length(
        subscription.interval, subscription.interval_count
    )
    if not longer or new_price <= credit:
        return downgrade
    new_end = add_interval(at, product.interval, new_count)
    return Proration(
        PlanChangeKind.UPGRADE,
        at,
        credit,
        new_price,
        remaining,
        total,
        at,
        new_end,
        True,
        new_end,
        new_price,
    )
