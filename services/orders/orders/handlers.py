"""Orders' use cases: commands from the API, events from other services, and deadlines.
Each loads what it needs in a unit of work, changes it through the domain, and emits the
events that follow (written to the outbox with the state)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any

import structlog

from contracts import Event, Money
from contracts.orders import (
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderDeclined,
    OrderDelivered,
    OrderDeliveryFailed,
    OrderExchangeRequested,
    OrderMessagePosted,
    OrderPlaced,
    OrderProblemReported,
    OrderRedeliveryRequested,
    OrderReturned,
    OrderReturnedToSender,
    OrderReturnRequested,
    OrderReviewed,
    OrderSellerBackedOut,
    OrderShipmentOverdue,
    OrderShipped,
    OrderShippingAddressChanged,
)
from contracts.payments import (
    PaymentAuthorizationFailed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentRefunded,
    PaymentReleased,
    PaymentVoided,
)
from contracts.seller_standards import SellerStandingChanged
from contracts.support import TicketEscalated, TicketOpened, TicketResolved
from orders import domain
from orders.db import Listings, Messages, Orders, OrderTickets, Reviews, Sellers
from orders.domain import (
    Action,
    Actor,
    Address,
    DomainError,
    Fulfilment,
    Listing,
    ListingStatus,
    Message,
    Order,
    OrderRules,
    Review,
    Seller,
    Status,
)
from servicekit.calendar import BusinessCalendar
from servicekit.clock import Clock
from servicekit.events import EventRouter, Received
from servicekit.failures import ConcurrentUpdate
from servicekit.uow import Database, UnitOfWork

log = structlog.get_logger(__name__)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True)
class OrdersContext:
    """What the use cases need besides a unit of work."""

    db: Database
    clock: Clock
    calendar: BusinessCalendar
    rules: OrderRules


@dataclass(frozen=True)
class Who:
    """The caller, as the gateway authenticated it."""

    id: str
    role: str
    carrier: str | None = None  # the carrier a `carrier` principal speaks for


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what}-not-found", f"No {what} with that id is visible to you")


# --- listings --------------------------------------------------------------------------


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
    domain.check_event_date(fulfilment, event_date, now.date(), ctx.rules.event_horizon_days)
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


async def update_listing(
    ctx: OrdersContext, listing_id: str, who: Who, changes: dict[str, Any]
) -> Listing:
    async with ctx.db.unit_of_work() as uow:
        repository = Listings(uow.session)
        listing = await repository.get(listing_id)
        if listing is None:
            raise NotFound("listing")
        if listing.seller_id != who.id:
            # Someone else's listing they can see is forbidden; one they cannot, not found.
            seller = await Sellers(uow.session).get(listing.seller_id)
            if listing.visible_to(who.id, seller, ctx.clock.now().date()):
                raise DomainError("forbidden", "Only the listing's seller changes it")
            raise NotFound("listing")
        if "status" in changes and changes["status"] not in (
            ListingStatus.ACTIVE,
            ListingStatus.PAUSED,
        ):
            raise DomainError("invalid-status", "A listing can be set active or paused")
        updated = replace(listing, **changes)
        if updated.status is ListingStatus.ACTIVE and updated.quantity_available == 0:
            updated = replace(updated, status=ListingStatus.SOLD_OUT)
        elif updated.status is ListingStatus.SOLD_OUT and updated.quantity_available > 0:
            updated = replace(updated, status=ListingStatus.ACTIVE)
        await repository.update(updated)
        await uow.commit()
    return replace(updated, version=updated.version + 1)


async def set_vacation(ctx: OrdersContext, seller_id: str, until: date | None) -> Seller:
    now = ctx.clock.now()
    if until is not None and until <= now.date():
        raise DomainError("date-in-past", "A vacation ends after today (or send null)")
    async with ctx.db.unit_of_work() as uow:
        sellers = Sellers(uow.session)
        await sellers.set_vacation(seller_id, until, now)
        seller = await sellers.get(seller_id)
        await uow.commit()
    return seller


# --- placing an order ------------------------------------------------------------------


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
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        listings = Listings(uow.session)
        listing = await listings.get(listing_id)
        if listing is None:
            raise NotFound("listing")
        (await Sellers(uow.session).get(listing.seller_id)).check_can_sell(now.date())
        order = domain.place_order(
            order_id=new_id("ord"),
            listing=listing,
            buyer_id=buyer_id,
            quantity=quantity,
            shipping_address=shipping_address,
            payment_method=payment_method,
            now=now,
            calendar=ctx.calendar,
            rules=ctx.rules,
        )
        if not await listings.reserve(listing.id, quantity):
            # Someone else bought the last ones between our read and our write.
            current = await listings.get(listing.id)
            if current is not None:
                current.check_orderable(quantity, now.date())
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
                accept_by=order.accept_by,
            )
        )
        await uow.commit()
    return order


# --- changing an order -----------------------------------------------------------------

Change = Callable[[Order, Actor, datetime], Order]
Consequences = Callable[[Order, Order, datetime], list[Event]]


def fact(order: Order, at: datetime) -> dict[str, Any]:
    """The fields every order event carries."""
    return {
        "order_id": order.id,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "listing_id": order.listing_id,
        "fulfilment": order.fulfilment.value,
        "occurred_at": at,
    }


async def change_order(
    uow: UnitOfWork,
    order: Order,
    actor: Actor,
    change: Change,
    consequences: Consequences,
    now: datetime,
) -> Order:
    """Apply `change`, save it (refused if someone else changed the order meanwhile) and
    emit what follows; stock goes back to the listing when an order ends unfulfilled."""
    changed = change(order, actor, now)
    saved = await Orders(uow.session).save(changed, before=order)
    ended_unfulfilled = saved.status in (Status.CANCELLED, Status.DECLINED)
    if ended_unfulfilled and order.status not in (Status.CANCELLED, Status.DECLINED):
        await Listings(uow.session).give_back(order.listing_id, order.quantity)
    for event in consequences(order, saved, now):
        uow.emit(event)
    return saved


async def act(
    ctx: OrdersContext, order_id: str, who: Who, change: Change, consequences: Consequences
) -> Order:
    """A person's action on an order: only its parties (and staff) see it at all."""
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        order = await Orders(uow.session).get(order_id)
        actor = order.actor_for(who.id, who.role) if order else None
        if order is None or actor is None:
            raise NotFound("order")
        saved = await change_order(uow, order, actor, change, consequences, now)
        await uow.commit()
    return saved


def _cancelled(reason: str, by: str) -> Consequences:
    def events(_: Order, saved: Order, now: datetime) -> list[Event]:
        return [
            OrderCancelled(
                order_id=saved.id,
                buyer_id=saved.buyer_id,
                seller_id=saved.seller_id,
                reason=reason,
                cancelled_by=by,  # type: ignore[arg-type]
                cancelled_at=now,
            )
        ]

    return events


def accept(ctx: OrdersContext, order_id: str, who: Who) -> Any:
    return act(
        ctx,
        order_id,
        who,
        lambda o, a, now: domain.accept(o, a, now, ctx.calendar),
        lambda _, s, now: [OrderAccepted(**fact(s, now), ship_by=s.ship_by)],
    )


def decline(ctx: OrdersContext, order_id: str, who: Who, reason: str) -> Any:
    def events(before: Order, saved: Order, now: datetime) -> list[Event]:
        if before.status is Status.ACCEPTED:
            event_date = saved.event_date.isoformat() if saved.event_date else None
            backed_out = OrderSellerBackedOut(
                **fact(saved, now), reason=reason, event_date=event_date
            )
            return [backed_out, *_cancelled("seller_backed_out", "seller")(before, saved, now)]
        return [OrderDeclined(**fact(saved, now), reason=reason)]

    return act(ctx, order_id, who, lambda o, a, now: domain.decline(o, a, reason, now), events)


def cancel(ctx: OrdersContext, order_id: str, who: Who, reason: str) -> Any:
    return act(
        ctx,
        order_id,
        who,
        lambda o, a, now: domain.cancel(o, a, reason, now),
        _cancelled(reason, "buyer"),
    )


def change_address(ctx: OrdersContext, order_id: str, who: Who, address: Address) -> Any:
    return act(
        ctx,
        order_id,
        who,
        lambda o, a, now: domain.change_address(o, a, address, now),
        lambda _, s, now: [
            OrderShippingAddressChanged(**fact(s, now), city=address.city, country=address.country)
        ],
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
        repository = Orders(uow.session)
        order = await repository.get(order_id)
        actor = order.actor_for(who.id, who.role) if order else None
        if order is None or actor is None:
            raise NotFound("order")
        shipped_with = domain.shipment_carrier(actor, carrier, who.carrier)
        same_parcel: list[Order] = []
        if shipped_with and tracking_number and domain.carrier_key(shipped_with):
            key = domain.carrier_key(shipped_with)
            same_parcel = await repository.parcel_orders(key, tracking_number)

        def change(order: Order, actor: Actor, now: datetime) -> Order:
            shipped = domain.ship(
                order,
                actor,
                now,
                carrier=shipped_with,
                tracking_number=tracking_number,
                transfer_reference=transfer_reference,
                confirmation_days=ctx.rules.confirmation_days,
            )
            domain.check_tracking_number_free(shipped, shipped_with, tracking_number, same_parcel)
            return shipped

        def events(before: Order, saved: Order, now: datetime) -> list[Event]:
            return [
                OrderShipped(
                    **fact(saved, now),
                    total=saved.total,
                    carrier=shipped_with,
                    tracking_number=tracking_number,
                    transfer_reference=transfer_reference,
                    replacement=before.status is Status.EXCHANGE_REQUESTED,
                )
            ]

        saved = await change_order(uow, order, actor, change, events, now)
        await uow.commit()
    return saved


def redeliver(ctx: OrdersContext, order_id: str, who: Who, preferred_date: date) -> Any:
    return act(
        ctx,
        order_id,
        who,
        lambda o, a, now: domain.redeliver(
            o, a, preferred_date, now, ctx.rules.redelivery_window_days
        ),
        lambda _, s, now: [
            OrderRedeliveryRequested(
                **fact(s, now),
                preferred_date=preferred_date.isoformat(),
                attempts=s.delivery_attempts,
            )
        ],
    )


def _completed(by: str) -> Consequences:
    return lambda _, s, now: [OrderCompleted(**fact(s, now), total=s.total, confirmed_by=by)]  # type: ignore[arg-type]


def confirm_receipt(ctx: OrdersContext, order_id: str, who: Who) -> Any:
    return act(ctx, order_id, who, domain.confirm_receipt, _completed("buyer"))


def report_problem(ctx: OrdersContext, order_id: str, who: Who, reason: str, details: str) -> Any:
    return act(
        ctx,
        order_id,
        who,
        lambda o, a, now: domain.report_problem(o, a, reason, details, now),
        lambda _, s, now: [OrderProblemReported(**fact(s, now), reason=reason, details=details)],  # type: ignore[arg-type]
    )


def request_return(ctx: OrdersContext, order_id: str, who: Who, reason: str) -> Any:
    return act(
        ctx,
        order_id,
        who,
        lambda o, a, now: domain.request_return(o, a, reason, now, ctx.calendar, ctx.rules),
        lambda _, s, now: [
            OrderReturnRequested(
                **fact(s, now),
                reason=reason,
                pickup_date=s.return_pickup_date.isoformat() if s.return_pickup_date else "",
            )
        ],
    )


def confirm_return(ctx: OrdersContext, order_id: str, who: Who) -> Any:
    return act(
        ctx,
        order_id,
        who,
        domain.confirm_return,
        lambda _, s, now: [OrderReturned(**fact(s, now), total=s.total)],
    )


def request_exchange(ctx: OrdersContext, order_id: str, who: Who, reason: str, note: str) -> Any:
    return act(
        ctx,
        order_id,
        who,
        lambda o, a, now: domain.request_exchange(o, a, reason, now),
        lambda _, s, now: [OrderExchangeRequested(**fact(s, now), reason=reason, note=note)],
    )


async def review(ctx: OrdersContext, order_id: str, who: Who, rating: int, text: str) -> Review:
    review_id = new_id("rev")
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        order = await Orders(uow.session).get(order_id)
        actor = order.actor_for(who.id, who.role) if order else None
        if order is None or actor is None:
            raise NotFound("order")
        saved = await change_order(
            uow,
            order,
            actor,
            lambda o, a, at: domain.review(o, a, rating, at),
            lambda _, s, at: [
                OrderReviewed(**fact(s, at), review_id=review_id, rating=rating, text=text)
            ],
            now,
        )
        created = Review(review_id, saved.id, saved.seller_id, saved.buyer_id, rating, text, now)
        await Reviews(uow.session).add(created)
        await uow.commit()
    return created


async def post_message(ctx: OrdersContext, order_id: str, who: Who, body: str) -> Message:
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        order = await Orders(uow.session).get(order_id)
        actor = order.actor_for(who.id, who.role) if order else None
        if order is None or actor is None:
            raise NotFound("order")
        if actor not in (Actor.BUYER, Actor.SELLER):
            raise DomainError("not-a-party", "Only the buyer and the seller message each other")
        message = Message(new_id("msg"), order.id, who.id, actor.value, body, now)
        await Messages(uow.session).add(message)
        uow.emit(
            OrderMessagePosted(
                **fact(order, now),
                message_id=message.id,
                sender_id=who.id,
                sender_role=actor.value,  # type: ignore[arg-type]
                body=body,
            )
        )
        await uow.commit()
    return message


async def messages(
    ctx: OrdersContext, order_id: str, who: Who, *, limit: int = 200, after_seq: int | None = None
) -> list[Message]:
    async with ctx.db.unit_of_work() as uow:
        order = await Orders(uow.session).get(order_id)
        if order is None or order.actor_for(who.id, who.role) is None:
            raise NotFound("order")
        return await Messages(uow.session).for_order(order_id, limit=limit, after_seq=after_seq)


# --- carriers --------------------------------------------------------------------------

CARRIER_ACTIONS = {
    "in_transit": Action.IN_TRANSIT,
    "out_for_delivery": Action.OUT_FOR_DELIVERY,
    "delivery_failed": Action.DELIVERY_FAILED,
    "delivered": Action.DELIVERED,
    "returned_to_sender": Action.RETURNED_TO_SENDER,
}


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
    action = CARRIER_ACTIONS[status]
    if not carrier or not domain.carrier_key(carrier):
        raise DomainError(
            "carrier-not-named",
            "This carrier account names no carrier, so it has no parcels; an operator must "
            "issue a new one",
        )
    domain.check_report_time(occurred_at, ctx.clock.now())

    def change(order: Order, actor: Actor, _: datetime) -> Order:
        return domain.carrier_update(order, action, occurred_at, ctx.calendar, ctx.rules)

    def events(_: Order, saved: Order, at: datetime) -> list[Event]:
        if action is Action.DELIVERY_FAILED:
            attempts = saved.delivery_attempts
            return [
                OrderDeliveryFailed(
                    **fact(saved, at), attempts=attempts, tracking_number=tracking_number
                )
            ]
        if action is Action.DELIVERED:
            return [
                OrderDelivered(
                    **fact(saved, at),
                    auto_complete_at=saved.auto_complete_at,
                    return_until=saved.return_until,
                )
            ]
        if action is Action.RETURNED_TO_SENDER:
            return [OrderReturnedToSender(**fact(saved, at), attempts=saved.delivery_attempts)]
        return []

    async with ctx.db.unit_of_work() as uow:
        repository = Orders(uow.session)
        candidates = await repository.parcel_orders(
            domain.carrier_key(carrier), tracking_number, shipped_by=occurred_at
        )
        found = domain.parcel_order(candidates, occurred_at)
        order = await repository.get(found.id) if found else None
        if order is None:
            raise NotFound("shipment")
        if domain.already_reported(order, action, occurred_at):
            return order
        saved = await change_order(uow, order, Actor.CARRIER, change, events, occurred_at)
        await uow.commit()
    return saved


# --- events from other services --------------------------------------------------------


async def on_payment_authorized(
    ctx: OrdersContext, received: Received[PaymentAuthorized], uow: UnitOfWork
) -> None:
    event = received.event
    repository = Orders(uow.session)
    order = await repository.get(event.order_id)
    if order is None or order.status is not Status.PLACED:
        return  # not ours, or already moved on: a state-machine guard, not an error
    authorized = domain.record_authorization(order, event.amount, ctx.clock.now())
    await repository.save(authorized, before=order)


async def on_payment_failed(
    ctx: OrdersContext, received: Received[PaymentAuthorizationFailed], uow: UnitOfWork
) -> None:
    event = received.event
    order = await Orders(uow.session).get(event.order_id)
    if order is None or order.status is not Status.PLACED:
        return
    await change_order(
        uow,
        order,
        Actor.SYSTEM,
        lambda o, _, now: domain.record_authorization_failure(o, event.reason, now),
        _cancelled("payment_failed", "system"),
        ctx.clock.now(),
    )


async def _payment_fact(
    ctx: OrdersContext, uow: UnitOfWork, order_id: str, change: Callable[[Order, datetime], Order]
) -> None:
    repository = Orders(uow.session)
    order = await repository.get(order_id)
    if order is None:
        return  # not an order of ours
    await repository.save(change(order, ctx.clock.now()), before=order)


async def on_payment_captured(
    ctx: OrdersContext, received: Received[PaymentCaptured], uow: UnitOfWork
) -> None:
    amount = received.event.amount
    await _payment_fact(
        ctx,
        uow,
        received.event.order_id,
        lambda o, now: domain.record_payment(o, domain.PaymentState.CAPTURED, now, captured=amount),
    )


async def on_payment_voided(
    ctx: OrdersContext, received: Received[PaymentVoided], uow: UnitOfWork
) -> None:
    """The hold was released. Following orders' own cancel, decline or expiry that is only
    recorded (no second OrderCancelled); under an order still open, it ends the order."""
    event = received.event
    order = await Orders(uow.session).get(event.order_id)
    if order is None:
        return  # not an order of ours
    now = ctx.clock.now()
    voided, outcome = domain.record_void(order, event.reason, now)
    if outcome is domain.VoidOutcome.RECORDED:
        await Orders(uow.session).save(voided, before=order)
        return
    await change_order(
        uow,
        order,
        Actor.SYSTEM,
        lambda *_: voided,
        # Not the seller's doing: notifications tell both parties, standards count nothing.
        _cancelled(voided.cancel_reason or domain.HOLD_RELEASED, "system"),
        now,
    )


async def on_payment_released(
    ctx: OrdersContext, received: Received[PaymentReleased], uow: UnitOfWork
) -> None:
    amount = received.event.amount
    await _payment_fact(
        ctx,
        uow,
        received.event.order_id,
        lambda o, now: domain.record_payment(o, domain.PaymentState.RELEASED, now, released=amount),
    )


async def on_payment_refunded(
    ctx: OrdersContext, received: Received[PaymentRefunded], uow: UnitOfWork
) -> None:
    event = received.event
    await _payment_fact(
        ctx,
        uow,
        event.order_id,
        lambda o, now: domain.record_refund(o, event.total_refunded, event.full, now),
    )


async def on_standing_changed(
    ctx: OrdersContext, received: Received[SellerStandingChanged], uow: UnitOfWork
) -> None:
    event = received.event
    await Sellers(uow.session).set_standing(event.seller_id, event.standing, ctx.clock.now())


async def on_ticket_opened(
    ctx: OrdersContext, received: Received[TicketOpened], uow: UnitOfWork
) -> None:
    event = received.event
    if event.order_id is None:
        return  # a ticket about a seller, not an order
    await OrderTickets(uow.session).opened(
        ticket_id=event.ticket_id,
        order_id=event.order_id,
        reason=event.reason,
        priority=event.priority,
        status="open",
        opened_at=event.opened_at,
        updated_at=ctx.clock.now(),
    )


async def on_ticket_escalated(
    ctx: OrdersContext, received: Received[TicketEscalated], uow: UnitOfWork
) -> None:
    event = received.event
    await OrderTickets(uow.session).changed(
        event.ticket_id, ctx.clock.now(), status="escalated", priority=event.priority
    )


async def on_ticket_resolved(
    ctx: OrdersContext, received: Received[TicketResolved], uow: UnitOfWork
) -> None:
    await OrderTickets(uow.session).changed(
        received.event.ticket_id, ctx.clock.now(), status="resolved"
    )


def event_router(ctx: OrdersContext) -> EventRouter:
    router = EventRouter()

    router.add(PaymentAuthorized, partial(on_payment_authorized, ctx))
    router.add(PaymentAuthorizationFailed, partial(on_payment_failed, ctx))
    router.add(PaymentCaptured, partial(on_payment_captured, ctx))
    router.add(PaymentVoided, partial(on_payment_voided, ctx))
    router.add(PaymentReleased, partial(on_payment_released, ctx))
    router.add(PaymentRefunded, partial(on_payment_refunded, ctx))
    router.add(SellerStandingChanged, partial(on_standing_changed, ctx))
    router.add(TicketOpened, partial(on_ticket_opened, ctx))
    router.add(TicketEscalated, partial(on_ticket_escalated, ctx))
    router.add(TicketResolved, partial(on_ticket_resolved, ctx))
    return router


# --- deadlines -------------------------------------------------------------------------


async def _fire(
    ctx: OrdersContext,
    now: datetime,
    status: Status,
    deadline: str,
    change: Callable[[Order, datetime], Order],
    consequences: Consequences,
    limit: int = 100,
) -> int:
    async with ctx.db.unit_of_work() as uow:
        due = await Orders(uow.session).due(status.value, deadline, now, limit)
    fired = 0
    for order_id in due:
        try:
            async with ctx.db.unit_of_work() as uow:
                order = await Orders(uow.session).get(order_id)
                if order is None or order.status is not status:
                    continue  # someone acted on it meanwhile
                await change_order(
                    uow, order, Actor.SYSTEM, lambda o, _, at: change(o, at), consequences, now
                )
                await uow.commit()
                fired += 1
        except (ConcurrentUpdate, DomainError) as error:
            # A command won the race for this order; the others still fire, and this one
            # is looked at again next tick if it is still due.
            log.info("deadline skipped", order_id=order_id, deadline=deadline, error=str(error))
    return fired


async def expire_acceptances(ctx: OrdersContext, now: datetime) -> int:
    """The seller did not accept in time: cancelled, the authorization released."""
    return await _fire(
        ctx,
        now,
        Status.AWAITING_SELLER,
        "accept_by",
        domain.expire_acceptance,
        _cancelled("acceptance_window_missed", "system"),
    )


async def flag_overdue_shipments(ctx: OrdersContext, now: datetime) -> int:
    """Ship-by passed without tracking: support opens a ticket, the buyer is told."""
    return await _fire(
        ctx,
        now,
        Status.ACCEPTED,
        "ship_by",
        domain.flag_shipment_overdue,
        lambda _, s, at: [
            OrderShipmentOverdue(**fact(s, at), ship_by=s.ship_by, accepted_at=s.accepted_at)
        ],
    )


async def complete_unconfirmed(ctx: OrdersContext, now: datetime) -> int:
    """Delivered (or, for a transfer, handed over and past its event), and neither confirmed
    nor disputed within the confirmation window."""
    fired = 0
    for status in (Status.DELIVERED, Status.SHIPPED):
        fired += await _fire(
            ctx, now, status, "auto_complete_at", domain.auto_complete, _completed("system")
        )
    return fired


def timer_jobs(ctx: OrdersContext) -> dict[str, Callable[[datetime], Any]]:
    return {
        "acceptance-window": lambda now: expire_acceptances(ctx, now),
        "ship-by": lambda now: flag_overdue_shipments(ctx, now),
        "auto-complete": lambda now: complete_unconfirmed(ctx, now),
    }
