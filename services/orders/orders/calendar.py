"""Business days: weekends and configured holidays do not count. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta


class BusinessCalendar:
    def __init__(self, holidays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """`start` moved forward by `days` business days, keeping the time of day:
        Friday 10:00 plus one business day is Monday 10:00."""
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_business_day(current.date()):
                remaining -= 1
        return current
