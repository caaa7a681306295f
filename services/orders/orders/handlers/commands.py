"""What buyers, sellers and carriers do with orders. Each command reads the order once,
lets the domain decide, and keeps the outcome (state and events) in one unit of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from orders import domain
from orders.db import OrdersUnit
from orders.domain import (
    Actor,
    Address,
    DomainError,
    Message,
    NotFound,
    Order,
    Outcome,
    Recipient,
    Review,
)
from orders.handlers.context import OrdersContext, Who, keep, new_id
from servicekit.messaging.failures import ConcurrentUpdate

# A party's decision on an order: (the order, who they are to it, now) -> what happened.
Decision = Callable[[Order, Actor, datetime], Outcome]


async def _party_order(uow: OrdersUnit, order_id: str, who: Who) -> tuple[Order, Actor]:
    """The order and the caller's part in it: only its parties (and staff) see it at all."""
    order = await uow.orders.get(order_id)
    actor = order.actor_for(who.id, who.role) if order else None
    if order is None or actor is None:
        raise NotFound("order")
    return order, actor


# How often a party's command is decided again when the order changed between its read and
# its write. Orders change on their own (payments' and support's events, deadlines), so a
# buyer reporting a problem the moment a carrier's scan lands would otherwise be told
# "changed meanwhile" for a change they could not have seen; decided again on the order as
# it now is, the command succeeds or is refused for a reason that holds.
DECIDE_AGAIN = 3


async def _act(ctx: OrdersContext, order_id: str, who: Who, decide: Decision) -> Order:
    for attempt in range(1, DECIDE_AGAIN + 1):
        now = ctx.clock.now()
        try:
            async with ctx.db.unit_of_work() as uow:
                order, actor = await _party_order(uow, order_id, who)
                saved = await keep(ctx, uow, order, decide(order, actor, now))
                await uow.commit()
            return saved
        except ConcurrentUpdate:
            if attempt == DECIDE_AGAIN:
                raise
    raise AssertionError("unreachable")


async def place_order(
    ctx: OrdersContext,
    *,
    buyer_id: str,
    listing_id: str,
    quantity: int,
    shipping_address: Address | None,
    payment_method: str,
    recipient: Recipient | None = None,
) -> Order:
    """Reserve the stock and record the order at the listing's price."""
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        listings = uow.listings
        listing = await listings.get(listing_id)
        if listing is None:
            raise NotFound("listing")
        (await uow.sellers.get(listing.seller_id)).check_can_sell(now.date())
        event = await uow.events.get(listing.event_id) if listing.event_id else None
        placed = domain.place_order(
            order_id=new_id("ord"),
            listing=listing,
            buyer_id=buyer_id,
            quantity=quantity,
            shipping_address=shipping_address,
            payment_method=payment_method,
            now=now,
            calendar=ctx.calendar,
            rules=ctx.rules,
            event=event,
            recipient=recipient,
        )
        if not await listings.reserve(listing.id, quantity):
            # Someone else bought the last ones between our read and our write.
            current = await listings.get(listing.id)
            if current is not None:
                current.check_orderable(quantity, now.date())
            raise DomainError("insufficient-stock", "Not enough left of this listing")
        await uow.orders.add(placed.order)
        for event in placed.events:
            uow.emit(event)
        await uow.commit()
    return placed.order


async def accept(ctx: OrdersContext, order_id: str, who: Who) -> Order:
    return await _act(
        ctx,
        order_id,
        who,
        lambda order, actor, now: domain.accept(order, actor, now, ctx.calendar, ctx.rules),
    )


async def decline(ctx: OrdersContext, order_id: str, who: Who, reason: str) -> Order:
    return await _act(
        ctx, order_id, who, lambda order, actor, now: domain.decline(order, actor, reason, now)
    )


async def cancel(ctx: OrdersContext, order_id: str, who: Who, reason: str) -> Order:
    return await _act(
        ctx, order_id, who, lambda order, actor, now: domain.cancel(order, actor, reason, now)
    )


async def change_address(ctx: OrdersContext, order_id: str, who: Who, address: Address) -> Order:
    return await _act(
        ctx,
        order_id,
        who,
        lambda order, actor, now: domain.change_address(order, actor, address, now),
    )


async def ship(
    ctx: OrdersContext,
    order_id: str,
    who: Who,
    *,
    carrier: str | None,
    tracking_number: str | None,
    transfer_reference: str | None,
) -> Order:
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        order, actor = await _party_order(uow, order_id, who)
        shipped_with = domain.shipment_carrier(actor, carrier, who.carrier)
        same_parcel: list[Order] = []
        if shipped_with and tracking_number and domain.carrier_key(shipped_with):
            key = domain.carrier_key(shipped_with)
            same_parcel = await uow.orders.parcel_orders(key, tracking_number)
        shipped = domain.ship(
            order,
            actor,
            now,
            carrier=shipped_with,
            tracking_number=tracking_number,
            transfer_reference=transfer_reference,
            confirmation_days=ctx.rules.confirmation_days,
            rules=ctx.rules,
        )
        domain.check_tracking_number_free(shipped.order, shipped_with, tracking_number, same_parcel)
        if order.event is not None and transfer_reference:
            same_ticket = await uow.orders.same_transfer(order.event.id, transfer_reference)
            domain.check_transfer_reference_free(shipped.order, transfer_reference, same_ticket)
        saved = await keep(ctx, uow, order, shipped)
        await uow.commit()
    return saved


async def redeliver(ctx: OrdersContext, order_id: str, who: Who, preferred_date: date) -> Order:
    window_days = ctx.rules.redelivery_window_days
    return await _act(
        ctx,
        order_id,
        who,
        lambda order, actor, now: domain.redeliver(order, actor, preferred_date, now, window_days),
    )


async def confirm_receipt(ctx: OrdersContext, order_id: str, who: Who) -> Order:
    return await _act(
        ctx,
        order_id,
        who,
        lambda order, actor, now: domain.confirm_receipt(order, actor, now, ctx.rules),
    )


async def report_problem(
    ctx: OrdersContext, order_id: str, who: Who, reason: str, details: str
) -> Order:
    return await _act(
        ctx,
        order_id,
        who,
        lambda order, actor, now: domain.report_problem(order, actor, reason, details, now),
    )


async def request_return(ctx: OrdersContext, order_id: str, who: Who, reason: str) -> Order:
    return await _act(
        ctx,
        order_id,
        who,
        lambda order, actor, now: domain.request_return(
            order, actor, reason, now, ctx.calendar, ctx.rules
        ),
    )


async def confirm_return(ctx: OrdersContext, order_id: str, who: Who) -> Order:
    return await _act(ctx, order_id, who, domain.confirm_return)


async def request_exchange(
    ctx: OrdersContext, order_id: str, who: Who, reason: str, note: str
) -> Order:
    return await _act(
        ctx,
        order_id,
        who,
        lambda order, actor, now: domain.request_exchange(order, actor, reason, now, note=note),
    )


async def review(ctx: OrdersContext, order_id: str, who: Who, rating: int, text: str) -> Review:
    review_id = new_id("rev")
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        order, actor = await _party_order(uow, order_id, who)
        reviewed = domain.review(order, actor, rating, now, review_id=review_id, text=text)
        saved = await keep(ctx, uow, order, reviewed)
        created = Review(review_id, saved.id, saved.seller_id, saved.buyer_id, rating, text, now)
        await uow.reviews.add(created)
        await uow.commit()
    return created


async def post_message(ctx: OrdersContext, order_id: str, who: Who, body: str) -> Message:
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        order, actor = await _party_order(uow, order_id, who)
        message, posted = domain.post_message(
            order, actor, message_id=new_id("msg"), sender_id=who.id, body=body, at=now
        )
        await uow.messages.add(message)
        uow.emit(posted)
        await uow.commit()
    return message


async def messages(
    ctx: OrdersContext, order_id: str, who: Who, *, limit: int = 200, after_seq: int | None = None
) -> list[Message]:
    async with ctx.db.unit_of_work() as uow:
        await _party_order(uow, order_id, who)
        return await uow.messages.for_order(order_id, limit=limit, after_seq=after_seq)


async def carrier_event(
    ctx: OrdersContext,
    tracking_number: str,
    status: str,
    occurred_at: datetime,
    *,
    carrier: str | None,
) -> Order:
    """A carrier's scan of one of its parcels. A parcel is (carrier, tracking number): a
    number of another carrier is as unknown as one nobody uses, so the answer tells a carrier
    nothing about other carriers' parcels. The same report sent again counts once, on the
    order it was about: a scan dated before an order's shipment is never that order's."""
    action = domain.CARRIER_ACTIONS[status]
    key = domain.reporting_carrier_key(carrier)
    domain.check_report_time(occurred_at, ctx.clock.now())
    # decided again, as a party's command is, when the order changed meanwhile (payments'
    # capture landing with the scan is no reason to refuse the carrier)
    for attempt in range(1, DECIDE_AGAIN + 1):
        try:
            async with ctx.db.unit_of_work() as uow:
                repository = uow.orders
                candidates = await repository.parcel_orders(
                    key, tracking_number, shipped_by=occurred_at
                )
                found = domain.parcel_order(candidates, occurred_at)
                if found is None:
                    raise NotFound("shipment")
                order = await repository.with_timeline(found)
                if domain.already_reported(order, action, occurred_at):
                    return order
                updated = domain.carrier_update(order, action, occurred_at, ctx.rules)
                saved = await keep(ctx, uow, order, updated)
                await uow.commit()
            return saved
        except ConcurrentUpdate:
            if attempt == DECIDE_AGAIN:
                raise
    raise AssertionError("unreachable")


async def carrier_requests(
    ctx: OrdersContext,
    *,
    carrier: str | None,
    since: datetime | None,
    limit: int,
    after: tuple[datetime, int] | None = None,
) -> list[tuple[domain.ParcelRequest, int]]:
    """What the caller's carrier must act on for its parcels (dates for another attempt,
    addresses, pickups), newest first, each with its position for the next page. Only the
    caller's carrier's parcels: a parcel is (carrier, tracking number)."""
    key = domain.reporting_carrier_key(carrier)
    async with ctx.db.unit_of_work() as uow:
        found = await uow.orders.carrier_requests(key, since=since, limit=limit, after=after)
    requests = []
    for order, kind, asked_at, position in found:
        request = domain.parcel_request(order, kind, asked_at)
        if request is not None:
            requests.append((request, position))
    return requests
