"""Support tickets: the queue (an agent's Open / Pending / Mine views, or a buyer's or seller's
own tickets), one ticket with the complaint, both parties, the order and the SLA, and the
agent's replies (to the buyer, to the seller, or an internal note) and resolution, which is
sent only from a confirmation step that says what it will do."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal import agent
from gateway.portal.forms import idempotency_key
from gateway.portal.responses import api_refusal, back, page, refused
from gateway.portal.routes.orders import party_names
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, Portal, PortalDep, Session, SessionDep, answer_json

router = APIRouter(prefix=PORTAL, include_in_schema=False)
MINE_LOOKS_AT = 50  # tickets read to find those an agent wrote on


def business_now(request: Request) -> datetime:
    """The platform's clock (the one SLA targets are set by), not the wall clock."""
    now: datetime = request.app.state.gateway.clock.now()
    return now


@router.get("/tickets", response_model=None)
async def tickets(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    is_agent = session.me.get("role") == "agent"
    view = request.query_params.get("view", "open") if is_agent else "all"
    view = view if view in agent.VIEWS or not is_agent else "open"
    params: dict[str, Any] = {"limit": 200}
    if is_agent:
        params["status"] = list(agent.VIEWS[view][1])
    async with portal.api(session.token, request) as api:
        items = answer_json(await api.get("/v1/tickets", params=params)).get("items", [])
        if view == "mine":
            items = [t for t in items[:MINE_LOOKS_AT] if await wrote_on(api, t, session)]
    now = business_now(request)
    return page(
        request,
        "tickets.html",
        session,
        tickets=[t | {"countdown": agent.sla_of(t, now)} for t in items],
        views=agent.VIEWS if is_agent else {},
        view=view,
    )


async def wrote_on(api: Any, ticket: dict[str, Any], session: Session) -> bool:
    full = answer_json(await api.get(f"/v1/tickets/{quote(str(ticket.get('id')), safe='')}"))
    return any(m.get("author_id") == session.me.get("id") for m in full.get("messages") or [])


async def ticket_and_order(
    portal: Portal, request: Request, session: Session, ticket_id: str
) -> tuple[Any, dict[str, Any] | None]:
    """The ticket as the API answers it, and its order when it has one."""
    async with portal.api(session.token, request) as api:
        answer = await api.get(f"/v1/tickets/{quote(ticket_id, safe='')}")
        order = None
        if answer.status_code == 200 and answer_json(answer).get("order_id"):
            order_id = quote(str(answer_json(answer)["order_id"]), safe="")
            found = await api.get(f"/v1/orders/{order_id}")
            order = answer_json(found) if found.status_code == 200 else None
    return answer, order


def currency_of(order: dict[str, Any] | None) -> str:
    return str(((order or {}).get("total") or {}).get("currency") or "EUR")


@router.get("/tickets/{ticket_id}", response_model=None)
async def ticket_page(
    request: Request, ticket_id: str, portal: PortalDep, session: SessionDep
) -> Response:
    answer, order = await ticket_and_order(portal, request, session, ticket_id)
    if answer.status_code != 200:
        return api_refusal(answer, "ticket", session)
    ticket = answer_json(answer)
    return page(
        request,
        "ticket.html",
        session,
        ticket=ticket,
        order=order,
        names=await party_names(portal, [ticket, *(ticket.get("alternatives") or [])]),
        complaint=agent.complaint(ticket),
        sla=agent.sla_of(ticket, business_now(request)),
        choices=agent.choices(ticket.get("possible_resolutions") or []),
        currency=currency_of(order),
        cap=agent.refundable(order),
    )


@router.post("/tickets/{ticket_id}/reply", response_model=None)
async def reply(
    request: Request, ticket_id: str, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    to = f"{PORTAL}/tickets/{quote(ticket_id, safe='')}"
    kind = form.get("kind", "both")
    body: dict[str, Any] = {"body": form.get("body", ""), "internal": kind == "internal"}
    if kind in ("buyer", "seller"):
        body["to"] = kind
    async with portal.api(session.token, request) as api:
        answer = await api.post(
            f"/v1/tickets/{quote(ticket_id, safe='')}/messages",
            json=body,
            headers={"Idempotency-Key": idempotency_key(form)},
        )
    done = {
        "internal": "Note added.",
        "buyer": "Sent to the buyer.",
        "seller": "Sent to the seller.",
    }
    return back(session, to, answer, done.get(kind, "Sent."))


@router.post("/tickets/{ticket_id}/resolve", response_model=None)
async def resolve(
    request: Request, ticket_id: str, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    to = f"{PORTAL}/tickets/{quote(ticket_id, safe='')}"
    answer, order = await ticket_and_order(portal, request, session, ticket_id)
    if answer.status_code != 200:
        return api_refusal(answer, "ticket", session)
    ticket = answer_json(answer)
    currency, cap = currency_of(order), agent.refundable(order)
    body = agent.resolution_body(
        form,
        ticket.get("possible_resolutions") or [],
        currency,
        cap,
        ticket.get("alternatives") or [],
    )
    if isinstance(body, str):
        return refused(session, to, body)
    if form.get("confirmed") != "yes":  # the confirmation step: what it will do, then send
        return page(
            request,
            "ticket_confirm.html",
            session,
            ticket=ticket,
            body=body,
            resolution=agent.RESOLUTIONS[body["action"]],
            consequence=agent.consequence(body, currency, cap),
            typed=form.get("amount", ""),
            key=idempotency_key(form),
        )
    async with portal.api(session.token, request) as api:
        answer = await api.post(
            f"/v1/tickets/{quote(ticket_id, safe='')}/resolve",
            json=body,
            headers={"Idempotency-Key": idempotency_key(form)},
        )
    return back(session, to, answer, "Resolved.")
