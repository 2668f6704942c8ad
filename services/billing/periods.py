"""Billing periods: adding an interval to a date, month ends clamped."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from models import TimeInterval


def add_interval(start: datetime, interval: TimeInterval, count: int = 1) -> datetime:
    if interval == TimeInterval.DAY:
        return start + timedelta(days=count)
    if interval == TimeInterval.WEEK:
        return start + timedelta(weeks=count)
    months = count * (12 if interval == TimeInterval.YEAR else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
