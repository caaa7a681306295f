"""What buyers, sellers and agents ask of support over HTTP: open a ticket on an order, write
on it, and (agents) resolve it, with the order's money checked in the same transaction."""

from __future__ import annotations

from dataclasses import replace

from contracts import Money
from contracts.support import ResolutionAction
from servicekit.hosting.http import not_found
from servicekit.messaging.failures import ConcurrentUpdate
from support.db import SupportUnit
from support.domain import tickets as rules
from support.domain.alternatives import rebook_case
from support.domain.errors import NotAllowed, Refused
from support.domain.order_money import cancellation_counted, decide_money, moves_money
from support.domain.possible import ACTIONS, check_order, moves_order, possible_resolutions
from support.domain.tickets import Party, Ticket
from support.handlers.context import SupportContext, emit_all, new_ticket_id
from support.handlers.rebooking import rebook_listing


async def open_by_customer(
    ctx: SupportContext, *, principal_id: str, role: str, order_id: str, title: str, body: str
) -> Ticket:
    if role not in ("buyer", "seller"):
        raise NotAllowed("Buyers and sellers open tickets on their own orders")
    async with ctx.db.unit_of_work() as uow:
        order = await uow.orders.get(order_id)
        if order is None or principal_id not in (order["buyer_id"], order["seller_id"]):
            raise not_found("order")
        now = ctx.clock.now()
        ticket = rules.open_ticket(
            new_ticket_id(),
            order=order,
            seller_id=order["seller_id"],
            reason="customer_request",
            opened_by=principal_id,
            now=now,
            calendar=ctx.calendar,
            title=title,
            targets=ctx.targets,
        )
        tickets = uow.tickets
        if await tickets.add(ticket):
            emit_all(uow, ticket)
        else:
            # One conversation per order: the question joins the open one, as a reply would.
            existing = await tickets.open_for(order_id, "customer_request")
            if existing is None:
                raise ConcurrentUpdate(f"the open question on {order_id} changed meanwhile")
            ticket = await tickets.save(
                rules.post_message(existing, principal_id, role, False, now)
            )
        await uow.messages.add(ticket.id, principal_id, role, body, False, now)
        await uow.commit()
    return ticket


async def visible_ticket(uow: SupportUnit, ticket_id: str, principal_id: str, role: str) -> Ticket:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None or not ticket.visible_to(principal_id, role):
        raise not_found("ticket")
    return ticket


async def possible_now(ctx: SupportContext, uow: SupportUnit, ticket: Ticket) -> list[str]:
    """The resolutions an agent may decide on this ticket now (none once it is resolved)."""
    if not ticket.is_open:
        return []
    if ticket.order_id is None:
        return [a for a in ACTIONS if not (moves_money(a) or moves_order(a))]
    order = await uow.orders.get(ticket.order_id)
    possible = possible_resolutions(
        status=order["status"] if order else None,
        fulfilment=order["fulfilment"] if order else None,
        money=await uow.order_moneys.get(ticket.order_id),
        credit_ratio=ctx.credit_limit_ratio,
    )
    return offered_on(ticket, possible)


def offered_on(ticket: Ticket, possible: list[ResolutionAction]) -> list[ResolutionAction]:
    """A rebooking replaces an event's ticket or booking whose seller backed out (#20): it
    is offered on that ticket only, whatever the order's status would allow."""
    return [a for a in possible if a != "rebook" or rebook_case(ticket) is not None]


async def post_message(
    ctx: SupportContext,
    ticket_id: str,
    *,
    principal_id: str,
    role: str,
    body: str,
    internal: bool,
    to: Party | None = None,
) -> Ticket:
    async with ctx.db.unit_of_work() as uow:
        ticket = await visible_ticket(uow, ticket_id, principal_id, role)
        now = ctx.clock.now()
        written = rules.post_message(ticket, principal_id, role, internal, now, body=body, to=to)
        if written.is_open and not ticket.is_open:  # reopened: unless a newer one is open
            newer = await uow.tickets.open_for(ticket.order_id or ticket.seller_id, ticket.reason)
            if newer is not None:
                raise Refused(f"Ticket {newer.id} about this is open; write there")
        saved = await uow.tickets.save(written)
        await uow.messages.add(ticket.id, principal_id, role, body, internal, now, to)
        emit_all(uow, written)  # an agent's public reply tells the parties
        await uow.commit()
    return saved


async def resolve(
    ctx: SupportContext,
    ticket_id: str,
    *,
    principal_id: str,
    role: str,
    action: ResolutionAction,
    amount: Money | None,
    note: str,
    listing_id: str | None = None,
) -> Ticket:
    """Decide a ticket. A resolution that moves money is checked against what the order's
    money allows and counted there in the same transaction, so payments is never asked for
    what it cannot do; a refusal changes nothing."""
    async with ctx.db.unit_of_work() as uow:
        ticket = await visible_ticket(uow, ticket_id, principal_id, role)
        order = await uow.orders.get(ticket.order_id) if ticket.order_id else None
        now = ctx.clock.now()
        if action == "rebook" and ticket.is_open:
            # the listing must be one of the ticket's alternatives, and the money still held
            money = await uow.order_moneys.locked(order["order_id"]) if order else None
            listing_id = await rebook_listing(uow, ticket, listing_id, money)
            if money is not None:  # the hold now pays the new order: no refund from here
                await uow.order_moneys.save(replace(money, voided=True))
        decided = rules.resolve(
            ticket,
            action=action,
            amount=amount,
            note=note,
            agent_id=principal_id,
            role=role,
            now=now,
            buyer_of_order=order["buyer_id"] if order else None,
            listing_id=listing_id,
        )
        moneys = uow.order_moneys
        # only a resolution that moves money or the order, on an order support knows, reads
        # (and locks) its money; an unknown order's is refused as not yet known
        acts = moves_money(action) or moves_order(action)
        money = await moneys.locked(order["order_id"]) if order and acts else None
        if moves_order(action):
            # what orders could not do is refused here: once published it can only be ignored
            check_order(
                action,
                status=order["status"] if order else None,
                fulfilment=order["fulfilment"] if order else None,
                money=money,
                possible=offered_on(
                    ticket,
                    possible_resolutions(
                        status=order["status"] if order else None,
                        fulfilment=order["fulfilment"] if order else None,
                        money=money,
                        credit_ratio=ctx.credit_limit_ratio,
                    ),
                ),
            )
        counted = decide_money(
            money, action=action, amount=amount, credit_ratio=ctx.credit_limit_ratio
        )
        if counted is not None and action == "cancel":
            counted = cancellation_counted(counted)  # payments returns all of it
        if counted is not None:
            await moneys.save(counted)
        resolved = await uow.tickets.save(decided)
        emit_all(uow, decided)
        await uow.commit()
    return resolved
