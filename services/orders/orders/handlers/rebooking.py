"""Support's `rebook` (#20): the buyer whose seller backed out gets another seller's listing
of the same event, as a new order that continues the first (`domain.rebooking`)."""

from __future__ import annotations

import structlog

from contracts.support import TicketResolved
from orders.db import OrdersUnit
from orders.domain import DomainError
from orders.domain.rebooking import rebook
from orders.handlers.context import OrdersContext, keep, new_id

log = structlog.get_logger(__name__)


async def on_rebook(ctx: OrdersContext, event: TicketResolved, uow: OrdersUnit) -> None:
    """Place the replacement order (stock taken from the listing) and let the first name it.
    Support checked the listing against its projection a moment ago; if it has sold out or
    changed since, nothing is placed and the refusal is logged (the ticket's agent sees no
    new order in the first order's view)."""
    first = await uow.orders.get(event.order_id)
    listing = await uow.listings.get(event.listing_id) if event.listing_id else None
    if first is None or listing is None:
        log.warning("rebook: order or listing unknown", order_id=event.order_id)
        return
    resale_event = await uow.events.get(listing.event_id) if listing.event_id else None
    now = ctx.clock.now()
    try:
        decided = rebook(
            first,
            listing,
            resale_event,
            new_order_id=new_id("ord"),
            ticket_id=event.ticket_id,
            now=now,
            calendar=ctx.calendar,
            rules=ctx.rules,
        )
    except DomainError as refused:
        log.warning("rebook refused", order_id=first.id, reason=str(refused))
        return
    placed = decided.placed.order
    if not await uow.listings.reserve(listing.id, placed.quantity):
        log.warning("rebook: the listing sold out meanwhile", order_id=first.id)
        return
    await uow.orders.add(placed)
    for placed_event in decided.placed.events:
        uow.emit(placed_event)
    await keep(ctx, uow, first, decided.first, now)
