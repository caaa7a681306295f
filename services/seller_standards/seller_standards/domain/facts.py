"""What the events say about each order, as far as the seller's standards go: how each order
and ticket event changes an order's facts. Pure; the facts are a projection that a replay of
the same events rebuilds exactly."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts import Event
from contracts.orders import (
    OrderAccepted,
    OrderCancelled,
    OrderDeclined,
    OrderDelivered,
    OrderDeliveryFailed,
    OrderMessagePosted,
    OrderPlaced,
    OrderProblemReported,
    OrderReturnedToSender,
    OrderSellerBackedOut,
    OrderShipmentOverdue,
    OrderShipped,
)
from contracts.support import TicketOpened

# The tickets that count as a defect of the seller's.
DEFECT_TICKETS = ("not_received", "not_as_described", "chargeback")
# A failed delivery or a return to sender is the seller's defect only when the event says the
# seller caused it (`fault: seller`). The carrier's own report is the carrier's, a parcel
# returned because the buyer chose no new date is the buyer's, and one whose cause the event
# does not say (events from before `fault`) is nobody's: a standing can cost a seller their
# listings, so it is never lowered on a guess.
SELLERS_FAULT = "seller"
# A buyer's report that a resale event is cancelled is the organiser's doing, never the
# seller's defect (#20); the operator's cancellation of the event cancels the orders with a
# reason that never counts (`event_cancelled`).
NOT_THE_SELLERS_PROBLEMS = ("event_cancelled",)

# Every event folded into an order's facts.
FOLDED: tuple[type[Event], ...] = (
    OrderPlaced,
    OrderAccepted,
    OrderShipped,
    OrderShipmentOverdue,  # late from now on: the facts say so already
    OrderDeclined,
    OrderSellerBackedOut,
    OrderCancelled,  # only the seller's own, or a deadline the seller missed
    OrderDelivered,
    OrderDeliveryFailed,
    OrderReturnedToSender,
    OrderProblemReported,
    OrderMessagePosted,
    TicketOpened,
)


@dataclass(frozen=True)
class OrderFacts:
    """What the events said about one order, as far as the seller's service goes."""

    order_id: str
    seller_id: str
    fulfilment: str
    placed_at: datetime
    ship_by: datetime | None = None
    shipped_at: datetime | None = None
    has_tracking: bool = False
    carrier_seen: bool = False
    seller_cancelled: bool = False
    defects: tuple[str, ...] = ()
    first_buyer_message_at: datetime | None = None
    seller_replied_at: datetime | None = None


@dataclass(frozen=True)
class Review:
    review_id: str
    order_id: str
    rating: int
    at: datetime
    misuse: bool = False
    text: str = ""


def tells_about_facts(event: Event) -> bool:
    """Whether the event changes its order's facts: a ticket only when it is on an order and
    reports one of the defects counted against the seller."""
    if isinstance(event, TicketOpened):
        return (
            event.order_id is not None
            and event.reason in DEFECT_TICKETS
            and event.fault in (None, SELLERS_FAULT)  # a stolen card's chargeback: `fraud`
        )
    if isinstance(event, OrderCancelled):
        return event.counts_against_seller()
    return isinstance(event, FOLDED)


def first_word(event: Any, published_at: datetime) -> OrderFacts:
    """The facts of an order first heard of through `event`: events from other topics may
    overtake `order.placed`."""
    if isinstance(event, TicketOpened):
        at = event.opened_at
    elif isinstance(event, OrderCancelled):
        at = event.cancelled_at
    else:
        at = getattr(event, "occurred_at", None) or published_at
    return OrderFacts(
        order_id=event.order_id,
        seller_id=event.seller_id,
        fulfilment=getattr(event, "fulfilment", "seller_ships"),
        placed_at=at,
    )


def folded(facts: OrderFacts, event: Event) -> OrderFacts:
    """The order's facts after `event`."""
    match event:
        case OrderPlaced():
            return replace(facts, placed_at=event.placed_at, fulfilment=event.fulfilment)
        case OrderAccepted():
            return replace(facts, ship_by=event.ship_by)
        case OrderShipped():
            return _shipped(facts, event)
        case OrderDeclined() | OrderSellerBackedOut():
            return replace(facts, seller_cancelled=True)
        case OrderCancelled() if event.counts_against_seller():
            # Not accepted in time, or not shipped by ship-by and its grace: as a decline.
            return replace(facts, seller_cancelled=True)
        case OrderDelivered():
            return replace(facts, carrier_seen=True)
        case OrderDeliveryFailed() | OrderReturnedToSender():
            seen = replace(facts, carrier_seen=True)
            if event.fault != SELLERS_FAULT:
                return seen  # the carrier's, the buyer's or unknown: not the seller's defect
            kind = "delivery_failed" if isinstance(event, OrderDeliveryFailed) else "returned"
            return _with_defect(seen, f"delivery:{kind}")
        case OrderProblemReported() if event.reason not in NOT_THE_SELLERS_PROBLEMS:
            return _with_defect(facts, f"problem:{event.reason}")
        case OrderMessagePosted():
            return _message(facts, event)
        case TicketOpened():
            return _with_defect(facts, f"ticket:{event.reason}")
    return facts


def _shipped(facts: OrderFacts, event: OrderShipped) -> OrderFacts:
    if event.replacement or facts.shipped_at is not None:
        return facts  # measured once: when the order first left the seller
    tracked = bool(event.tracking_number or event.transfer_reference)
    return replace(facts, shipped_at=event.occurred_at, has_tracking=tracked)


def _with_defect(facts: OrderFacts, kind: str) -> OrderFacts:
    return facts if kind in facts.defects else replace(facts, defects=(*facts.defects, kind))


def _message(facts: OrderFacts, event: OrderMessagePosted) -> OrderFacts:
    """The response clock runs from the buyer's first message to the seller's next reply."""
    if event.sender_role == "buyer":
        return (
            facts
            if facts.first_buyer_message_at
            else replace(facts, first_buyer_message_at=event.occurred_at)
        )
    if facts.first_buyer_message_at and not facts.seller_replied_at:
        return replace(facts, seller_replied_at=event.occurred_at)
    return facts
