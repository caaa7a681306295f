"""Alternatives and `rebook` (#20): what a ticket about a seller backing out of an event's
ticket or booking offers, from support's projection of orders' listings."""

from __future__ import annotations

from typing import Any

from contracts.orders import ListingUpdated, OrderRebookFailed
from servicekit.messaging.events import Received
from support.db import SupportUnit
from support.domain.alternatives import (
    WITH_ALTERNATIVES,
    WITHOUT_ALTERNATIVES,
    ListingFact,
    alternatives,
    alternatives_view,
    check_rebook,
    rebook_case,
)
from support.domain.order_money import OrderMoney
from support.domain.rebook_failed import (
    failed_rebook_note,
    hold_kept_again,
    reopen_after_failed_rebook,
)
from support.domain.tickets import SYSTEM, Ticket
from support.handlers.context import SupportContext
from support.listings_db import EventListings


async def on_listing_updated(
    ctx: SupportContext, received: Received[ListingUpdated], uow: SupportUnit
) -> None:
    event = received.event
    await EventListings(uow.session).keep(
        ListingFact(
            listing_id=event.listing_id,
            seller_id=event.seller_id,
            event_id=event.event_id,
            price=event.price,
            quantity_available=event.quantity_available,
            status=event.status,
            version=event.version,
        )
    )


async def on_rebook_failed(
    ctx: SupportContext, received: Received[OrderRebookFailed], uow: SupportUnit
) -> None:
    """Orders could not place the rebooking the agent decided: the ticket opens again, urgent,
    with a system note saying why, and its alternatives (computed now) or a refund to choose."""
    event = received.event
    ticket = await uow.tickets.get(event.ticket_id)
    if ticket is None or ticket.order_id != event.order_id:
        return
    now = ctx.clock.now()
    reopened = reopen_after_failed_rebook(
        ticket,
        listing_id=event.new_listing_id,
        now=now,
        calendar=ctx.calendar,
        targets=ctx.targets,
    )
    if reopened is None:
        return
    await uow.tickets.save(reopened)
    moneys = uow.order_moneys
    await moneys.save(hold_kept_again(await moneys.locked(event.order_id)))
    note = failed_rebook_note(event.new_listing_id, event.reason)
    await uow.messages.add(ticket.id, SYSTEM, SYSTEM, note, True, now)


async def _found(uow: SupportUnit, ticket: Ticket) -> list[ListingFact]:
    case = rebook_case(ticket)
    if case is None:
        return []
    order = await uow.orders.get(ticket.order_id) if ticket.order_id else None
    listings = await EventListings(uow.session).of_event(case.event_id)
    return alternatives(case, listings, order["currency"] if order else None)


async def alternatives_shown(uow: SupportUnit, ticket: Ticket) -> dict[str, Any]:
    """For an open ticket about a seller backing out of an event's ticket or booking: its
    `alternatives` (computed now, cheapest first) and what to do when none suits."""
    if not ticket.is_open or rebook_case(ticket) is None:
        return {}
    found = await _found(uow, ticket)
    return {
        "alternatives": alternatives_view(found),
        "alternatives_note": WITH_ALTERNATIVES if found else WITHOUT_ALTERNATIVES,
    }


async def rebook_listing(
    uow: SupportUnit, ticket: Ticket, listing_id: str | None, money: OrderMoney | None
) -> str:
    """The listing a `rebook` buys, or 409 with the alternatives (`check_rebook`)."""
    return check_rebook(listing_id, rebook_case(ticket), await _found(uow, ticket), money)
