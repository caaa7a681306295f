"""Times as people read them: the platform's one date format, in the reader's time zone.

Inside the platform every moment is UTC; only what a person reads is turned into their zone
(the portal's preference, UTC for e-mails, whose reader's zone is not known). The one format
is "Sat 28 Nov 2026, 13:00 CET" for a moment and "Sat 28 Nov 2026" for a calendar date, as
`format_money` is the one way to show an amount."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MOMENT_FORMAT = "%a %d %b %Y, %H:%M"
DAY_FORMAT = "%a %d %b %Y"
_MAX_ZONE_NAME = 64


def zone_named(name: str | None) -> tzinfo:
    """The IANA zone called `name` ("Europe/Amsterdam"), or UTC when there is no such zone
    (anything a browser sends is checked against the zone database, never trusted)."""
    if not name or len(name) > _MAX_ZONE_NAME or ".." in name or name.startswith("/"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def is_zone(name: str) -> bool:
    return name == "UTC" or zone_named(name) is not UTC


def as_moment(value: datetime | str | None) -> datetime | None:
    """An RFC 3339 text or a datetime as an aware datetime (naive ones are UTC); None when it
    is neither."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_moment(value: datetime | str, zone: tzinfo = UTC) -> str:
    """A moment as people read it, in `zone`: "Sat 28 Nov 2026, 13:00 CET". Text that is not
    a moment is shown as it is."""
    moment = as_moment(value)
    if moment is None:
        return str(value)
    local = moment.astimezone(zone)
    return f"{local.strftime(MOMENT_FORMAT)} {local.tzname() or 'UTC'}"


def format_day(value: date | datetime | str) -> str:
    """A calendar date (a pickup date, an event's day) as people read it: "Sat 28 Nov 2026";
    anything that is not one is shown as it is."""
    if isinstance(value, date):
        return value.strftime(DAY_FORMAT)
    try:
        return date.fromisoformat(str(value)[:10]).strftime(DAY_FORMAT)
    except ValueError:
        return str(value)
