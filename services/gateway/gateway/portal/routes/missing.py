"""Any other address under `/portal`: a page-not-found inside the layout (404 kept), not the
API's JSON. Included last, so every real page matches first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal.settings import PORTAL, SESSION_COOKIE
from gateway.portal.signed_in import PortalDep, live_session
from gateway.portal.views import not_found

router = APIRouter(prefix=PORTAL, include_in_schema=False)


@router.get("/{rest:path}", response_model=None)
async def missing(request: Request, rest: str, portal: PortalDep) -> Response:
    session = await live_session(portal, request, request.cookies.get(SESSION_COOKIE))
    return not_found("There is no such page here.", session.me if session else None)
