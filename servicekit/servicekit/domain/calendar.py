"""Business days and hours: weekends and configured holidays do not count, and a business
day is open from `opens` to `closes` (UTC). Orders counts deadlines in business days, support
its SLA clocks in business hours. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta


class BusinessCalendar:
    def __init__(
        self, holidays: Iterable[date] = (), *, opens: time = time(9), closes: time = time(17)
    ) -> None:
        if closes <= opens:
            raise ValueError("a business day must close after it opens")
        self.holidays = frozenset(holidays)
        self.opens = opens
        self.closes = closes

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

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """`start` moved forward by `hours` of open time: Friday 16:00 plus two business
        hours is Monday 10:00 (open 9 to 17). Time outside opening hours does not count."""
        remaining = timedelta(hours=hours)
        current = start
        while True:
            day = current.date()
            opening = datetime.combine(day, self.opens, tzinfo=start.tzinfo)
            closing = datetime.combine(day, self.closes, tzinfo=start.tzinfo)
            if not self.is_business_day(day) or current >= closing:
                current = opening + timedelta(days=1)
                continue
            current = max(current, opening)
            if current + remaining <= closing:
                return current + remaining
            remaining -= closing - current
            current = opening + timedelta(days=1)
