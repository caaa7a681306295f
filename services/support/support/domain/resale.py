"""Tickets about a resale event's ticket or hotel booking (#20): a buyer refused at the door,
a hotel that cannot find the booking, an event the buyer says is cancelled. They are urgent,
and near the event (from 48 hours before its start until 48 hours after its end) their SLA
runs on a 24/7 clock: an event on a Saturday night cannot wait for Monday's business hours.
Orders' events carry the event (`event.starts_at`, `event.ends_at`) in their payload. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from contracts.orders import RESALE_PROBLEMS

NEAR_EVENT = timedelta(hours=48)

# The ticket's title for each of the resale reasons: support keeps them as `problem_other`
# tickets (a reason of their own would change support's published reason enum), urgent.
RESALE_TITLES = {
    "entry_denied": "The buyer was refused entry with the ticket",
    "booking_not_found": "The hotel cannot find the buyer's booking",
    "event_cancelled": "The buyer reports the event is cancelled",
}
assert set(RESALE_TITLES) == set(RESALE_PROBLEMS)


class Calendar(Protocol):
    def add_business_hours(self, start: datetime, hours: float) -> datetime: ...


@dataclass(frozen=True)
class AroundTheClock:
    """Every hour counts (the SLA near an event)."""

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        return start + timedelta(hours=hours)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def near_event(context: dict[str, Any], now: datetime) -> bool:
    """Whether `now` is within 48 hours of the event the ticket's event names."""
    event = context.get("event")
    if not isinstance(event, dict):
        return False
    starts, ends = _moment(event.get("starts_at")), _moment(event.get("ends_at"))
    if starts is None:
        return False
    return starts - NEAR_EVENT <= now <= (ends or starts) + NEAR_EVENT


def sla_calendar(context: dict[str, Any], now: datetime, calendar: Calendar) -> Calendar:
    """The clock a ticket's SLA runs on: 24/7 near its event, business hours otherwise."""
    return AroundTheClock() if near_event(context, now) else calendar
