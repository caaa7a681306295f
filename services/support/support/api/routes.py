"""Tickets, their conversation and resolutions."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from servicekit.hosting.http import Caller, CallerDep, Problem, not_found
from servicekit.hosting.pagination import DEFAULT_LIMIT, MAX_LIMIT, encode_cursor
from support.api.bodies import NewMessage, NewTicket, ResolutionRequest
from support.api.dependencies import Context
from support.api.views import STAFF, queue_position, ticket_view
from support.domain.tickets import Status
from support.handlers import commands
from support.handlers.context import SupportContext
from support.handlers.rebooking import alternatives_shown

router = APIRouter(prefix="/v1")


async def full_view(ctx: SupportContext, ticket_id: str, who: Caller) -> dict[str, Any]:
    async with ctx.db.unit_of_work() as uow:
        ticket = await commands.visible_ticket(uow, ticket_id, who.id, who.role)
        messages = await uow.messages.of_ticket(
            ticket.id,
            with_internal=who.role in STAFF,
            party=None if who.role in STAFF else who.role,
        )
        possible = await commands.possible_now(ctx, uow, ticket)
        offered = await alternatives_shown(uow, ticket)
    return ticket_view(ticket, messages) | {"possible_resolutions": possible} | offered


@router.get("/tickets")
async def list_tickets(
    who: CallerDep,
    ctx: Context,
    status: Annotated[list[Status] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Agents and operators: the queue, soonest SLA target first. Others: their own."""
    if who.role not in (*STAFF, "buyer", "seller"):
        raise Problem(403, "Forbidden", "Tickets are for buyers, sellers and agents")
    after = queue_position(cursor) if cursor else None
    async with ctx.db.unit_of_work() as uow:
        page = await uow.tickets.page(
            party=None if who.role in STAFF else who.id,
            statuses=status,
            after=after,
            limit=limit + 1,
        )
    more, page = len(page) > limit, page[:limit]
    return {
        "items": [ticket_view(t) for t in page],
        "next_cursor": encode_cursor(page[-1].sla_due.isoformat(), page[-1].id) if more else None,
    }


@router.post("/tickets", status_code=201)
async def open_ticket(body: NewTicket, who: CallerDep, ctx: Context) -> dict[str, Any]:
    ticket = await commands.open_by_customer(
        ctx,
        principal_id=who.id,
        role=who.role,
        order_id=body.order_id,
        title=body.subject,
        body=body.body,
    )
    return await full_view(ctx, ticket.id, who)


@router.get("/tickets/{ticket_id}")
async def get_ticket(ticket_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    return await full_view(ctx, ticket_id, who)


@router.post("/tickets/{ticket_id}/messages", status_code=201)
async def post_message(
    ticket_id: str, body: NewMessage, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    await commands.post_message(
        ctx,
        ticket_id,
        principal_id=who.id,
        role=who.role,
        body=body.body,
        internal=body.internal,
        to=body.to,
    )
    return await full_view(ctx, ticket_id, who)


@router.post("/tickets/{ticket_id}/resolve")
async def resolve(
    ticket_id: str, body: ResolutionRequest, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    await commands.resolve(
        ctx,
        ticket_id,
        principal_id=who.id,
        role=who.role,
        action=body.action,
        amount=body.amount,
        note=body.note,
        listing_id=body.listing_id,
    )
    return await full_view(ctx, ticket_id, who)


@router.get("/orders/{order_id}/tickets")
async def tickets_of_order(order_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    async with ctx.db.unit_of_work() as uow:
        tickets = [
            t for t in await uow.tickets.of_order(order_id) if t.visible_to(who.id, who.role)
        ]
    if not tickets and who.role not in STAFF:
        raise not_found("tickets for an order")
    return {"items": [ticket_view(t) for t in tickets]}
