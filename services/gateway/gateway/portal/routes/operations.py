"""The operators' page: consumer lag and dead letters, and their actions (replay a dead letter,
set a seller's standing, exempt a seller for a period). A replay and a standing decision are
sent only from a confirmation step that says what they will do."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal.forms import STANDINGS, utc
from gateway.portal.responses import back, page
from gateway.portal.routes.operator import confirm
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, PortalDep, SessionDep, answer_json
from gateway.portal.views import lag_rows, plain_page

router = APIRouter(prefix=PORTAL, include_in_schema=False)


@router.get("/ops", response_model=None)
async def ops(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    async with portal.api(session.token, request) as api:
        consumers = await api.get("/v1/ops/consumers")
        if consumers.status_code != 200:
            return plain_page("Operators only.", 403)
        letters = answer_json(await api.get("/v1/ops/dead-letters"))
    return page(
        request,
        "ops.html",
        session,
        lags=lag_rows(consumers.json()),
        letters=letters.get("items", []),
        standings=STANDINGS,
    )


CONSEQUENCES = {
    "replay": (
        "Replay this dead letter?",
        "The event is delivered again to its consumer group, which acts on it now as if it "
        "had just arrived (consumers ignore what they have already handled).",
    ),
    "standing": (
        "Set this seller's standing?",
        "The standing applies at once, whatever the metrics say: a suspended or revoked seller "
        "cannot sell, and the seller is told.",
    ),
}


@router.post("/ops/{step}", response_model=None)
async def ops_action(
    request: Request, step: str, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    if step in CONSEQUENCES and form.get("confirmed") != "yes":
        heading, consequence = CONSEQUENCES[step]
        return confirm(
            request,
            session,
            form,
            heading=heading,
            consequence=consequence,
            action=f"{PORTAL}/ops/{step}",
            yes="Yes, " + heading.split(" ", 1)[0].lower() + " it",
            back_to=f"{PORTAL}/ops",
        )
    async with portal.api(session.token, request) as api:
        if step == "replay":
            answer = await api.post(
                f"/v1/ops/dead-letters/{quote(form.get('letter_id', ''), safe='')}/replay"
            )
        elif step == "standing":
            answer = await api.put(
                f"/v1/sellers/{quote(form.get('seller_id', ''))}/standing",
                json={"standing": form.get("standing"), "reason": form.get("reason")},
            )
        elif step == "exemption":
            answer = await api.post(
                f"/v1/sellers/{quote(form.get('seller_id', ''))}/exemptions",
                json={
                    "from": utc(form.get("from", "")),
                    "to": utc(form.get("to", "")),
                    "reason": form.get("reason"),
                },
            )
        else:
            answer = httpx.Response(404, json={"detail": "No such step."})
    return back(session, f"{PORTAL}/ops", answer)
