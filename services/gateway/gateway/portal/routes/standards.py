"""A seller's standards: the metrics against their targets, and the standing's history."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal.responses import page
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import PortalDep, SessionDep
from gateway.portal.views import metric_rows, plain_page

router = APIRouter(prefix=PORTAL, include_in_schema=False)


@router.get("/standards", response_model=None)
async def standards(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    seller_id = request.query_params.get("seller_id") or session.me["id"]
    async with portal.api(session.token, request) as api:
        answer = await api.get(f"/v1/sellers/{quote(seller_id)}/standards")
    if answer.status_code != 200:
        return plain_page(
            "No standards to show.", 404 if answer.status_code >= 500 else answer.status_code
        )
    shown = answer.json()
    return page(
        request,
        "standards.html",
        session,
        standards=shown,
        metrics=metric_rows(shown.get("metrics", {})),
        seller_id=seller_id,
    )
