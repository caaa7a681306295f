"""The reader's time zone: a preference kept in a cookie (chosen on the settings page),
checked against the zone database on every read, UTC when there is none."""

from __future__ import annotations

from datetime import UTC, tzinfo

from fastapi import Request

from contracts.dates import zone_named

ZONE_COOKIE = "mkt_tz"


def reader_zone(request: Request | None) -> tzinfo:
    if request is None:
        return UTC
    return zone_named(request.cookies.get(ZONE_COOKIE))


def reader_zone_name(request: Request | None) -> str:
    zone = reader_zone(request)
    return str(getattr(zone, "key", "UTC"))
