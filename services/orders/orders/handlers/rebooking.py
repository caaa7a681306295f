"""Support's `rebook` (#20): the buyer whose seller backed out gets another seller's listing
of the same event, as a new order that continues the first (`domain.rebooking`)."""

from __future__ import annotations

import structlog

from contracts.support import TicketResolved
from orders.db import OrdersUnit
from orders.domain import DomainError
from orders.domain.rebooking import Rebooking, rebook_failed, rebook_or_fail
from orders.handlers.context import OrdersContext, keep, new_id

log = structlog.get_logger(__name__)


async def on_rebook(ctx: OrdersContext, event: TicketResolved, uow: OrdersUnit) -> None:
    """Place the replacement order (stock taken from the listing) and let the first name it.
    Support checked the listing against its projection a moment ago; if orders cannot place it
    (gone, sold out, its seller away, the event no longer scheduled) nothing is placed and
    `order.rebook_failed` is published in the same transaction: support reopens the ticket and
    the buyer is told. A stale or replayed decision is only logged."""
    first = await uow.orders.get(event.order_id)
    if first is None or not event.listing_id:
        log.warning("rebook: order or listing unknown", order_id=event.order_id)
        return
    listing = await uow.listings.get(event.listing_id)
    resale_event = await uow.events.get(listing.event_id) if listing and listing.event_id else None
    seller = await uow.sellers.get(listing.seller_id) if listing else None
    now = ctx.clock.now()
    try:
        decided = rebook_or_fail(
            first,
            listing,
            resale_event,
            listing_id=event.listing_id,
            new_order_id=new_id("ord"),
            ticket_id=event.ticket_id,
            now=now,
            calendar=ctx.calendar,
            rules=ctx.rules,
            seller=seller,
        )
    except DomainError as refused:
        log.warning("rebook refused", order_id=first.id, reason=str(refused))
        return
    if not isinstance(decided, Rebooking):
        await keep(ctx, uow, first, decided, now)
        return
    placed = decided.placed.order
    if not await uow.listings.reserve(event.listing_id, placed.quantity):
        sold_out = "The listing sold out meanwhile"
        failed = rebook_failed(
            first, ticket_id=event.ticket_id, listing_id=event.listing_id, reason=sold_out, now=now
        )
        await keep(ctx, uow, first, failed, now)
        return
    await uow.orders.add(placed)
    for placed_event in decided.placed.events:
        uow.emit(placed_event)
    await keep(ctx, uow, first, decided.first, now)
