"""Operators' commands about resale events (create, cancel, postpone) and what anyone signed
in reads of one: the event with its active listings, cheapest first."""

from __future__ import annotations

from datetime import datetime

from orders import domain
from orders.domain import EventKind, Listing, NotFound, ResaleEvent
from orders.handlers.context import OrdersContext, new_id


async def create_event(
    ctx: OrdersContext,
    *,
    name: str,
    venue: str,
    kind: EventKind,
    starts_at: datetime,
    ends_at: datetime,
) -> ResaleEvent:
    event = domain.new_event(
        event_id=new_id("evt"),
        name=name,
        venue=venue,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        now=ctx.clock.now(),
        horizon_days=ctx.rules.event_horizon_days,
    )
    async with ctx.db.unit_of_work() as uow:
        await uow.events.add(event)
        await uow.commit()
    return event


async def event_with_listings(
    ctx: OrdersContext, event_id: str
) -> tuple[ResaleEvent, list[Listing]]:
    async with ctx.db.unit_of_work() as uow:
        event = await uow.events.get(event_id)
        if event is None:
            raise NotFound("event")
        listings = await uow.listings.of_event(event_id, ctx.clock.now().date())
    return event, listings
