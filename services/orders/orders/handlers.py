"""Orders' use cases: commands from the API and events from other services. Each takes a
unit of work and the rules it needs, changes state through the domain, and emits events
(written to the outbox with the state)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts import Money
from contracts.orders import OrderCancelled, OrderPlaced
from contracts.payments import PaymentAuthorizationFailed, PaymentAuthorized
from orders import domain
from orders.calendar import BusinessCalendar
from orders.db import Listings, Orders
from orders.domain import (
    Address,
    DomainError,
    Fulfilment,
    Listing,
    ListingStatus,
    Order,
    OrderRules,
    Status,
)
from servicekit.clock import Clock
from servicekit.events import EventRouter, Received
from servicekit.uow import Database, UnitOfWork


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True)
class OrdersContext:
    """What the use cases need besides a unit of work."""

    db: Database
    clock: Clock
    calendar: BusinessCalendar
    rules: OrderRules


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
) -> Listing:
    now = ctx.clock.now()
    if fulfilment is Fulfilment.TRANSFER and event_date is None:
        raise DomainError("event-date-required", "A transfer listing needs its event_date")
    if event_date is not None and event_date <= now.date():
        raise DomainError("event-date-passed", "The event_date must be in the future")
    listing = Listing(
        id=new_id("lst"),
        seller_id=seller_id,
        title=title,
        price=price,
        quantity_available=quantity_available,
        fulfilment=fulfilment,
        handling_days=handling_days,
        status=ListingStatus.ACTIVE if quantity_available > 0 else ListingStatus.SOLD_OUT,
        created_at=now,
        event_date=event_date,
    )
    async with ctx.db.unit_of_work() as uow:
        await Listings(uow.session).add(listing)
        await uow.commit()
    return listing


async def place_order(
    ctx: OrdersContext,
    *,
    buyer_id: str,
    listing_id: str,
    quantity: int,
    shipping_address: Address | None,
    payment_method: str,
) -> Order:
    """Reserve the stock and record the order at the listing's price; payments is told to
    authorize the card. Never the client's price: it is not even asked for."""
    async with ctx.db.unit_of_work() as uow:
        listings = Listings(uow.session)
        listing = await listings.get(listing_id)
        if listing is None:
            raise DomainError("listing-not-found", "No listing with that id")
        order = domain.place_order(
            order_id=new_id("ord"),
            listing=listing,
            buyer_id=buyer_id,
            quantity=quantity,
            shipping_address=shipping_address,
            payment_method=payment_method,
            now=ctx.clock.now(),
            calendar=ctx.calendar,
            rules=ctx.rules,
        )
        if not await listings.reserve(listing.id, quantity):
            # Someone else bought the last ones between our read and our write.
            current = await listings.get(listing.id)
            if current is not None:
                current.check_orderable(quantity, ctx.clock.now().date())
            raise DomainError("insufficient-stock", "Not enough left of this listing")
        await Orders(uow.session).add(order)
        uow.emit(
            OrderPlaced(
                order_id=order.id,
                buyer_id=order.buyer_id,
                seller_id=order.seller_id,
                listing_id=order.listing_id,
                quantity=order.quantity,
                unit_price=order.unit_price,
                total=order.total,
                fulfilment=order.fulfilment.value,
                payment_method=order.payment_method,
                placed_at=order.placed_at,
            )
        )
        await uow.commit()
    return order


async def _load(uow: UnitOfWork, order_id: str) -> tuple[Orders, Order | None]:
    repository = Orders(uow.session)
    return repository, await repository.get(order_id)


async def on_payment_authorized(
    ctx: OrdersContext, received: Received[PaymentAuthorized], uow: UnitOfWork
) -> None:
    event = received.event
    repository, order = await _load(uow, event.order_id)
    if order is None or order.status is not Status.PLACED:
        return  # not ours, or already moved on: state-machine guard, not an error
    await repository.save(domain.record_authorization(order, event.amount, ctx.clock.now()))


async def on_payment_failed(
    ctx: OrdersContext, received: Received[PaymentAuthorizationFailed], uow: UnitOfWork
) -> None:
    event = received.event
    repository, order = await _load(uow, event.order_id)
    if order is None or order.status is not Status.PLACED:
        return
    now = ctx.clock.now()
    cancelled = await repository.save(domain.record_authorization_failure(order, event.reason, now))
    await Listings(uow.session).give_back(order.listing_id, order.quantity)
    uow.emit(
        OrderCancelled(
            order_id=cancelled.id,
            buyer_id=cancelled.buyer_id,
            seller_id=cancelled.seller_id,
            reason="payment_failed",
            cancelled_by="system",
            cancelled_at=now,
        )
    )


def event_router(ctx: OrdersContext) -> EventRouter:
    router = EventRouter()

    def bind(handler: Any) -> Any:
        async def call(received: Received[Any], uow: UnitOfWork) -> None:
            await handler(ctx, received, uow)

        return call

    router.add(PaymentAuthorized, bind(on_payment_authorized))
    router.add(PaymentAuthorizationFailed, bind(on_payment_failed))
    return router
