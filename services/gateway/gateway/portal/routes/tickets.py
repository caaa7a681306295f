"""Support tickets: the queue (an agent's, or a buyer's or seller's own), one ticket with its
order, and the agent's reply and resolution."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal.forms import RESOLUTIONS, idempotency_key, resolution_of
from gateway.portal.responses import back, page, refused
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, PortalDep, SessionDep, answer_json
from gateway.portal.views import not_found

router = APIRouter(prefix=PORTAL, include_in_schema=False)


@router.get("/tickets", response_model=None)
async def tickets(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    async with portal.api(session.token, request) as api:
        queue = answer_json(await api.get("/v1/tickets", params={"limit": 200}))
    return page(request, "tickets.html", session, tickets=queue.get("items", []))


@router.get("/tickets/{ticket_id}", response_model=None)
async def ticket_page(
    request: Request, ticket_id: str, portal: PortalDep, session: SessionDep
) -> Response:
    async with portal.api(session.token, request) as api:
        answer = await api.get(f"/v1/tickets/{quote(ticket_id)}")
        if answer.status_code != 200:
            return not_found("No such ticket.")
        ticket = answer.json()
        order = None
        if ticket.get("order_id"):
            order = answer_json(await api.get(f"/v1/orders/{quote(str(ticket['order_id']))}"))
    return page(request, "ticket.html", session, ticket=ticket, order=order, actions=RESOLUTIONS)


@router.post("/tickets/{ticket_id}/{step}", response_model=None)
async def ticket_action(
    request: Request,
    ticket_id: str,
    step: str,
    portal: PortalDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    to = f"{PORTAL}/tickets/{quote(ticket_id)}"
    body: dict[str, Any]
    if step == "reply":
        path, body = "/messages", {"body": form.get("body", ""), "internal": "internal" in form}
    elif step == "resolve":
        decided = resolution_of(form)
        if isinstance(decided, str):
            return refused(session, to, decided)
        path, body = "/resolve", decided
    else:
        return refused(session, to, "No such step.", 404)
    async with portal.api(session.token, request) as api:
        answer = await api.post(
            f"/v1/tickets/{quote(ticket_id)}{path}",
            json=body,
            headers={"Idempotency-Key": idempotency_key(form)},
        )
    return back(session, to, answer, "Sent." if step == "reply" else "Resolved.")
