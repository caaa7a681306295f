"""Support's HTTP API (through the gateway): tickets, their conversation and resolutions."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from contracts import Money
from contracts.support import ResolutionAction
from contracts.text import Line, Paragraphs, control_character_fault
from servicekit.http import Caller, Problem, not_found
from servicekit.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from support.db import Messages, TicketMessage, Tickets
from support.domain.tickets import SYSTEM, Status, Ticket
from support.handlers import commands
from support.handlers.context import SupportContext

STAFF = ("agent", "operator")


class NewTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Line = Field(min_length=1, max_length=40)
    subject: Line = Field(min_length=1, max_length=300)
    body: Paragraphs = Field(min_length=1, max_length=10_000)


class NewMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Paragraphs = Field(min_length=1, max_length=10_000)
    internal: bool = False


class ResolutionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: ResolutionAction
    amount: Money | None = None
    note: Paragraphs = Field("", max_length=2_000)


def queue_position(cursor: str) -> tuple[datetime, str]:
    """Where a page of the queue starts: a cursor this list gave out, or 422."""
    due, ticket_id = decode_cursor(cursor, 2)
    try:
        at = datetime.fromisoformat(due)
        if (
            at.tzinfo is None
            or len(ticket_id) > 40
            or control_character_fault(ticket_id, multiline=False)
        ):
            raise ValueError(due)
        return at.astimezone(UTC), ticket_id
    except (ValueError, OverflowError) as error:
        raise Problem(
            422,
            "Invalid request",
            "The cursor is not one this list gave out",
            slug="validation-error",
            errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
        ) from error


def ticket_view(ticket: Ticket, messages: list[TicketMessage] | None = None) -> dict[str, Any]:
    resolution = ticket.resolution
    view: dict[str, Any] = {
        "id": ticket.id,
        "order_id": ticket.order_id,
        "buyer_id": ticket.buyer_id,
        "seller_id": ticket.seller_id,
        "kind": "automatic" if ticket.opened_by == SYSTEM else "request",
        "reason": ticket.reason,
        "priority": ticket.priority,
        "status": ticket.status.value,
        "subject": ticket.title,
        "opened_by": ticket.opened_by,
        "opened_at": ticket.opened_at.isoformat(),
        "occurrences": ticket.occurrences,
        "sla": {
            "first_response_due": ticket.first_response_due.isoformat(),
            "resolution_due": ticket.resolution_due.isoformat(),
            "first_responded_at": ticket.first_responded_at.isoformat()
            if ticket.first_responded_at
            else None,
            "breached": ticket.breached,
        },
        "resolution": None
        if resolution is None
        else {
            "action": resolution.action,
            "amount": resolution.amount.model_dump() if resolution.amount else None,
            "note": resolution.note,
            "resolved_by": resolution.resolved_by,
            "resolved_at": resolution.resolved_at.isoformat(),
        },
    }
    if messages is not None:
        view["context"] = ticket.context
        view["messages"] = [
            {
                "author_id": m.author_id,
                "author_role": m.author_role,
                "body": m.body,
                "internal": m.internal,
                "at": m.at.isoformat(),
            }
            for m in messages
        ]
    return view


def build_router(ctx: SupportContext, caller: Callable[..., Caller]) -> APIRouter:
    router = APIRouter(prefix="/v1")
    CallerDep = Annotated[Caller, Depends(caller)]

    async def full_view(ticket_id: str, who: Caller) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            ticket = await commands.visible_ticket(uow, ticket_id, who.id, who.role)
            messages = await Messages(uow.session).of_ticket(
                ticket.id, with_internal=who.role in STAFF
            )
        return ticket_view(ticket, messages)

    @router.get("/tickets")
    async def list_tickets(
        who: CallerDep,
        status: Annotated[list[Status] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Agents and operators: the queue, soonest SLA target first. Others: their own."""
        if who.role not in (*STAFF, "buyer", "seller"):
            raise Problem(403, "Forbidden", "Tickets are for buyers, sellers and agents")
        after = queue_position(cursor) if cursor else None
        async with ctx.db.unit_of_work() as uow:
            page = await Tickets(uow.session).page(
                party=None if who.role in STAFF else who.id,
                statuses=status,
                after=after,
                limit=limit + 1,
            )
        more, page = len(page) > limit, page[:limit]
        return {
            "items": [ticket_view(t) for t in page],
            "next_cursor": encode_cursor(page[-1].sla_due.isoformat(), page[-1].id)
            if more
            else None,
        }

    @router.post("/tickets", status_code=201)
    async def open_ticket(body: NewTicket, who: CallerDep) -> dict[str, Any]:
        ticket = await commands.open_by_customer(
            ctx,
            principal_id=who.id,
            role=who.role,
            order_id=body.order_id,
            title=body.subject,
            body=body.body,
        )
        return await full_view(ticket.id, who)

    @router.get("/tickets/{ticket_id}")
    async def get_ticket(ticket_id: str, who: CallerDep) -> dict[str, Any]:
        return await full_view(ticket_id, who)

    @router.post("/tickets/{ticket_id}/messages", status_code=201)
    async def post_message(ticket_id: str, body: NewMessage, who: CallerDep) -> dict[str, Any]:
        await commands.post_message(
            ctx,
            ticket_id,
            principal_id=who.id,
            role=who.role,
            body=body.body,
            internal=body.internal,
        )
        return await full_view(ticket_id, who)

    @router.post("/tickets/{ticket_id}/resolve")
    async def resolve(ticket_id: str, body: ResolutionRequest, who: CallerDep) -> dict[str, Any]:
        await commands.resolve(
            ctx,
            ticket_id,
            principal_id=who.id,
            role=who.role,
            action=body.action,
            amount=body.amount,
            note=body.note,
        )
        return await full_view(ticket_id, who)

    @router.get("/orders/{order_id}/tickets")
    async def tickets_of_order(order_id: str, who: CallerDep) -> dict[str, Any]:
        async with ctx.db.unit_of_work() as uow:
            tickets = [
                t
                for t in await Tickets(uow.session).of_order(order_id)
                if t.visible_to(who.id, who.role)
            ]
        if not tickets and who.role not in STAFF:
            raise not_found("tickets for an order")
        return {"items": [ticket_view(t) for t in tickets]}

    return router
