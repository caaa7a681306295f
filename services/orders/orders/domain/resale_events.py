"""Events that resold tickets and hotel bookings are for (`ResaleEvent`, not to be confused with
the messages services publish): a concert, a match, a hotel stay (check-in and check-out as its
start and end). Times are kept in UTC with the venue's UTC offset, so views show the local
start. An operator creates, cancels or postpones one; listings name it (`Listing.event_id`),
and each order of it keeps a snapshot (`EventSnapshot`) that follows a postponement."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from orders.domain.errors import DomainError


class EventKind(StrEnum):
    TICKET = "ticket"
    HOTEL_BOOKING = "hotel_booking"  # starts at check-in, ends at check-out


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    POSTPONED = "postponed"  # new dates; buyers may cancel for a full refund until the start
    CANCELLED = "cancelled"  # every open order of it returns the buyer's money


# Longest an event (a festival, a hotel stay) may last.
MAX_EVENT_DAYS = 60


@dataclass(frozen=True)
class EventSnapshot:
    """What an order keeps of its event (updated when the event is postponed)."""

    id: str
    name: str
    venue: str
    kind: EventKind
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    utc_offset_minutes: int  # the venue's offset at the start
    status: EventStatus = EventStatus.SCHEDULED

    @property
    def venue_zone(self) -> timezone:
        return timezone(timedelta(minutes=self.utc_offset_minutes))

    def local(self, moment: datetime) -> datetime:
        """`moment` on the venue's clock."""
        return moment.astimezone(self.venue_zone)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "venue": self.venue,
            "kind": self.kind.value,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "utc_offset_minutes": self.utc_offset_minutes,
            "status": self.status.value,
        }

    @classmethod
    def from_dict(cls, value: dict[str, object]) -> EventSnapshot:
        return cls(
            id=str(value["id"]),
            name=str(value["name"]),
            venue=str(value["venue"]),
            kind=EventKind(str(value["kind"])),
            starts_at=datetime.fromisoformat(str(value["starts_at"])).astimezone(UTC),
            ends_at=datetime.fromisoformat(str(value["ends_at"])).astimezone(UTC),
            utc_offset_minutes=int(str(value["utc_offset_minutes"])),
            status=EventStatus(str(value.get("status", EventStatus.SCHEDULED.value))),
        )


@dataclass(frozen=True)
class ResaleEvent:
    id: str
    name: str
    venue: str
    kind: EventKind
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    utc_offset_minutes: int
    status: EventStatus
    created_at: datetime
    updated_at: datetime
    cancel_reason: str | None = None
    version: int = 1

    @property
    def snapshot(self) -> EventSnapshot:
        return EventSnapshot(
            id=self.id,
            name=self.name,
            venue=self.venue,
            kind=self.kind,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            utc_offset_minutes=self.utc_offset_minutes,
            status=self.status,
        )

    def check_listable(self, now: datetime) -> None:
        """A ticket or booking is listed (and bought) for an event that is on and ahead."""
        if self.status is EventStatus.CANCELLED:
            raise DomainError("event-cancelled", "This event is cancelled")
        if self.starts_at <= now:
            raise DomainError("event-started", "This event has started or is over")


def _offset_minutes(moment: datetime) -> int:
    offset = moment.utcoffset()
    if offset is None:
        raise DomainError("offset-required", "Times need the venue's UTC offset (RFC 3339)")
    return int(offset.total_seconds() // 60)


def check_dates(starts_at: datetime, ends_at: datetime, now: datetime, horizon_days: int) -> None:
    """Ahead (within the horizon), ending after it starts, and not lasting for ever."""
    _offset_minutes(starts_at)
    _offset_minutes(ends_at)
    if starts_at <= now:
        raise DomainError("event-date-passed", "starts_at must be in the future")
    if ends_at <= starts_at:
        raise DomainError("event-dates-invalid", "ends_at must be after starts_at")
    if starts_at > now + timedelta(days=horizon_days):
        raise DomainError(
            "event-date-out-of-range", f"starts_at must be within {horizon_days} days from now"
        )
    if ends_at - starts_at > timedelta(days=MAX_EVENT_DAYS):
        raise DomainError(
            "event-dates-invalid", f"An event or stay lasts at most {MAX_EVENT_DAYS} days"
        )


def new_event(
    *,
    event_id: str,
    name: str,
    venue: str,
    kind: EventKind,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    horizon_days: int,
) -> ResaleEvent:
    check_dates(starts_at, ends_at, now, horizon_days)
    return ResaleEvent(
        id=event_id,
        name=name,
        venue=venue,
        kind=kind,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        utc_offset_minutes=_offset_minutes(starts_at),
        status=EventStatus.SCHEDULED,
        created_at=now,
        updated_at=now,
    )


def _check_open(event: ResaleEvent, now: datetime) -> None:
    if event.status is EventStatus.CANCELLED:
        raise DomainError("event-cancelled", "This event is cancelled already")
    if event.ends_at <= now:
        raise DomainError("event-over", "This event is over")


def cancel_event(event: ResaleEvent, reason: str, now: datetime) -> ResaleEvent:
    _check_open(event, now)
    return replace(event, status=EventStatus.CANCELLED, cancel_reason=reason, updated_at=now)


def postpone_event(
    event: ResaleEvent, starts_at: datetime, ends_at: datetime, now: datetime, horizon_days: int
) -> ResaleEvent:
    _check_open(event, now)
    check_dates(starts_at, ends_at, now, horizon_days)
    return replace(
        event,
        status=EventStatus.POSTPONED,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        utc_offset_minutes=_offset_minutes(starts_at),
        updated_at=now,
    )
