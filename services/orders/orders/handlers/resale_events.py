"""Operators' commands about resale events (create, cancel, postpone) and what anyone signed
in reads of one: the event with its active listings, cheapest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts.orders import ResaleEventCancelled, ResaleEventPostponed
from orders import domain
from orders.db import OrdersUnit
from orders.domain import EventKind, EventStatus, Listing, NotFound, Order, Outcome, ResaleEvent
from orders.domain.outcome import event_facts
from orders.handlers.context import OrdersContext, keep, new_id


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
    if event.status is EventStatus.CANCELLED:
        return event, []  # nothing of it can be bought any more
    return event, listings


async def _each_open_order(
    ctx: OrdersContext,
    uow: OrdersUnit,
    event: ResaleEvent,
    decide: Callable[[Order], Outcome],
    now: datetime,
) -> int:
    """Let `decide` act on every order of the event that is not over, in `uow`; how many."""
    closed = [status.value for status in domain.CLOSED_STATUSES]
    count = 0
    for order_id in await uow.events.open_order_ids(event.id, closed):
        order = await uow.orders.get(order_id)
        if order is None:
            continue
        await keep(ctx, uow, order, decide(order), now)
        count += 1
    return count


async def cancel_event(ctx: OrdersContext, event_id: str, reason: str) -> ResaleEvent:
    """The event will not take place: every open order of it is cancelled and its buyer's
    money returned in full (payments voids or refunds on `order.cancelled`), not counted
    against its seller; its listings can no longer be bought."""
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        event = await uow.events.get(event_id)
        if event is None:
            raise NotFound("event")
        saved = await uow.events.save(domain.cancel_event(event, reason, now))
        snapshot = saved.snapshot
        count = await _each_open_order(
            ctx,
            uow,
            saved,
            lambda order: domain.cancel_for_event(order, snapshot, reason, now),
            now,
        )
        uow.emit(
            ResaleEventCancelled(
                event=event_facts(snapshot), open_orders=count, occurred_at=now, reason=reason
            )
        )
        await uow.commit()
    return saved


async def postpone_event(
    ctx: OrdersContext, event_id: str, starts_at: datetime, ends_at: datetime
) -> ResaleEvent:
    """New dates: every open order's snapshot and deadlines follow, its buyer is told and may
    cancel for a full refund until the new start."""
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        event = await uow.events.get(event_id)
        if event is None:
            raise NotFound("event")
        moved = domain.postpone_event(event, starts_at, ends_at, now, ctx.rules.event_horizon_days)
        saved = await uow.events.save(moved)
        snapshot = saved.snapshot
        count = await _each_open_order(
            ctx,
            uow,
            saved,
            lambda order: domain.follow_postponement(
                order, snapshot, event.starts_at, now, ctx.rules
            ),
            now,
        )
        await uow.listings.move_event_date(event_id, snapshot.local(snapshot.starts_at).date())
        uow.emit(
            ResaleEventPostponed(
                event=event_facts(snapshot),
                open_orders=count,
                occurred_at=now,
                previous_starts_at=event.starts_at,
            )
        )
        await uow.commit()
    return saved
