"""Sellers' commands about what they sell: listings and vacations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from contracts import Money
from orders import domain
from orders.domain import Fulfilment, Listing, NotFound, Seller
from orders.handlers.context import OrdersContext, Who, new_id


async def create_listing(
    ctx: OrdersContext,
    *,
    seller_id: str,
    title: str,
    price: Money,
    quantity_available: int,
    fulfilment: Fulfilment,
    handling_days: int,
    event_date: date | None,
    event_id: str | None = None,
) -> Listing:
    async with ctx.db.unit_of_work() as uow:
        event = await uow.events.get(event_id) if event_id is not None else None
    if event_id is not None and event is None:
        raise NotFound("event")
    listing = domain.new_listing(
        listing_id=new_id("lst"),
        seller_id=seller_id,
        title=title,
        price=price,
        quantity_available=quantity_available,
        fulfilment=fulfilment,
        handling_days=handling_days,
        event_date=event_date,
        now=ctx.clock.now(),
        horizon_days=ctx.rules.event_horizon_days,
        event=event,
    )
    async with ctx.db.unit_of_work() as uow:
        await uow.listings.add(listing)
        await uow.commit()
    return listing


async def update_listing(
    ctx: OrdersContext, listing_id: str, who: Who, changes: dict[str, Any]
) -> Listing:
    async with ctx.db.unit_of_work() as uow:
        repository = uow.listings
        listing = await repository.get(listing_id)
        if listing is None:
            raise NotFound("listing")
        seller = await uow.sellers.get(listing.seller_id)
        updated = domain.change_listing(listing, who.id, seller, changes, ctx.clock.now().date())
        await repository.update(updated)
        await uow.commit()
    return replace(updated, version=updated.version + 1)


async def set_vacation(ctx: OrdersContext, seller_id: str, until: date | None) -> Seller:
    now = ctx.clock.now()
    domain.check_vacation_end(until, now.date())
    async with ctx.db.unit_of_work() as uow:
        sellers = uow.sellers
        await sellers.set_vacation(seller_id, until, now)
        seller = await sellers.get(seller_id)
        await uow.commit()
    return seller
