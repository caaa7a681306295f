"""The reader's settings: the time zone every date is shown in (kept in a cookie, checked
against the zone database; UTC until chosen)."""

from __future__ import annotations

from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.dates import is_zone
from gateway.portal.responses import back, page, refused
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, PortalDep, SessionDep
from gateway.portal.zone import ZONE_COOKIE, reader_zone_name

router = APIRouter(include_in_schema=False)  # under /portal: served by orders.router
SETTINGS = f"{PORTAL}/settings"
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


@router.get("/settings", response_model=None)
async def settings(request: Request, session: SessionDep) -> Response:
    return page(
        request, "settings.html", session, zones=["UTC", *ZONES], zone=reader_zone_name(request)
    )


@router.post("/settings", response_model=None)
async def save_settings(
    request: Request, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    zone = form.get("tz", "")
    if not is_zone(zone):
        return refused(session, SETTINGS, "Choose a time zone from the list.")
    response = back(session, SETTINGS, done=f"Dates are shown in {zone} time now.")
    portal.set_cookie(request, response, ZONE_COOKIE, zone)
    return response
