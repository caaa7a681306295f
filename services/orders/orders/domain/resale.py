"""Orders for a resale event's ticket or hotel booking (#20): the money waits for the promise.

- The order names its `recipient` and keeps a snapshot of its event.
- Accept-by and ship-by fall before the event's start (`OrderRules.event_cutoff` before it).
- The money stays in escrow until the event is over (`release_at`: its end plus
  `OrderRules.resale_release_after`); a buyer's confirmation before then is recorded, and the
  buyer may still report a problem at the gate (`entry_denied`, `booking_not_found`, ...).
- The buyer may cancel only until the seller accepts, except after a postponement: then until
  the new start, for a full refund.
- An operator cancelling the event returns every open order's money (`cancel_for_event`);
  postponing it moves every open order's dates (`follow_postponement`).
- An order still not transferred at the start is cancelled, counted against the seller
  (`cancel_not_transferred`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from contracts.orders import (
    EVENT_CANCELLED,
    RESALE_PROBLEMS,
    OrderEventPostponed,
    OrderTransferConfirmed,
)
from orders.domain.errors import DomainError
from orders.domain.order import Order, OrderRules
from orders.domain.outcome import Outcome, cancelled, event_facts, order_fact
from orders.domain.resale_events import EventSnapshot
from orders.domain.state_machine import Action, Actor, Fulfilment, Status

TRANSFER_NOT_MADE = "transfer_not_made"  # counted against the seller (SELLER_MISSED_DEADLINES)
# Where an event order may still be when its event is cancelled: everything before release.
CANCELLED_WITH_EVENT = (
    Status.PLACED,
    Status.AWAITING_SELLER,
    Status.ACCEPTED,
    Status.SHIPPED,
    Status.DISPUTED,
)


def event_cap(event: EventSnapshot, rules: OrderRules) -> datetime:
    """The latest a seller's deadline (accept-by, ship-by) may fall: before the start."""
    return event.starts_at - rules.event_cutoff


def release_at(order: Order, rules: OrderRules) -> datetime | None:
    """When an event order's money may go to the seller: after the event (None: no event)."""
    if order.event is None:
        return None
    return order.event.ends_at + rules.resale_release_after


def capped_accept_by(accept_by: datetime, event: EventSnapshot, rules: OrderRules) -> datetime:
    return min(accept_by, event_cap(event, rules))


def check_resale_problem(order: Order, reason: str) -> None:
    """The gate's reasons exist only for a ticket or booking."""
    if reason in RESALE_PROBLEMS and order.fulfilment is not Fulfilment.TRANSFER:
        raise DomainError(
            "reason-not-applicable", f"'{reason}' is for tickets and bookings; choose another"
        )


def confirm_early(order: Order, actor: Actor, at: datetime, rules: OrderRules) -> Outcome | None:
    """The buyer confirms an event's transfer before the money may be released: recorded, the
    order stays open (None: not such a case; the confirmation completes as usual)."""
    release = release_at(order, rules)
    if release is None or order.status is not Status.SHIPPED or at >= release:
        return None
    order.apply(Action.CONFIRM_RECEIPT, actor, at)  # who may, and when: refused as usual
    assert order.event is not None
    confirmed = replace(order, receipt_confirmed_at=at, updated_at=at)
    confirmed = confirmed.noting(
        at,
        "transfer_confirmed",
        "You confirmed the booking is in your name. Thank you! We keep the payment safe until "
        f"{release:%Y-%m-%d %H:%M} UTC, after the event, so if anything goes wrong at the door "
        "you can still report it; then the seller is paid",
    )
    event = OrderTransferConfirmed(
        **order_fact(confirmed, at), event=event_facts(order.event), release_at=release
    )
    return Outcome(confirmed, (event,))


def cancel_for_event(order: Order, event: EventSnapshot, reason: str, at: datetime) -> Outcome:
    """The operator cancelled the event: the order ends and the buyer gets everything back
    (payments voids the hold, or refunds what it captured), not counted against the seller."""
    with_event = replace(order, event=event)
    ended = with_event.apply(
        Action.EVENT_CANCELLED, Actor.SYSTEM, at, cancel_reason=EVENT_CANCELLED
    )
    money = (
        "your payment is refunded in full"
        if order.captured is not None
        else "the hold on your card is released"
    )
    ended = ended.noting(
        at,
        "event_cancelled",
        f"{event.name} is cancelled by the organiser ({reason}): the order is cancelled and "
        f"{money}. The seller is not at fault",
    )
    events = (cancelled(ended, EVENT_CANCELLED, "system", at),)
    # The ticket will not be used by anyone: nothing goes back on sale.
    return Outcome(ended, events)


def follow_postponement(
    order: Order, event: EventSnapshot, previous_start: datetime, at: datetime, rules: OrderRules
) -> Outcome:
    """The event moved: the order's snapshot and deadlines follow; the buyer may cancel for a
    full refund until the new start."""
    changes: dict[str, object] = {
        "event": event,
        "event_date": event.local(event.starts_at).date(),
        "updated_at": at,
    }
    moved = replace(order, **changes)  # type: ignore[arg-type]
    cap = event_cap(event, rules)
    if moved.status is Status.AWAITING_SELLER:
        moved = replace(
            moved, accept_by=min(moved.accept_by, cap), act_by=min(moved.accept_by, cap)
        )
    elif moved.status is Status.ACCEPTED and moved.ship_by is not None:
        moved = replace(moved, ship_by=min(moved.ship_by, max(cap, at)))
        if not moved.shipment_overdue:
            moved = replace(moved, act_by=moved.ship_by)
    elif moved.status is Status.SHIPPED:
        release = release_at(moved, rules)
        moved = replace(moved, auto_complete_at=release, act_by=release)
    local = event.local(event.starts_at)
    moved = moved.noting(
        at,
        "event_postponed",
        f"{event.name} is postponed to {local:%Y-%m-%d %H:%M} (local time). Your order stays "
        f"valid for the new date; if it no longer suits you, cancel until {local:%Y-%m-%d %H:%M} "
        "for a full refund",
    )
    postponed = OrderEventPostponed(
        **order_fact(moved, at),
        event=event_facts(event),
        previous_starts_at=previous_start,
        cancellable_until=event.starts_at,
        release_at=release_at(moved, rules),
    )
    return Outcome(moved, (postponed,))


def cancel_not_transferred(order: Order, at: datetime) -> Outcome:
    """The event starts and the seller never transferred: the order is cancelled, the hold
    released, counted as the seller's failure (the overdue ticket follows up with the buyer)."""
    ended = order.apply(
        Action.SHIPMENT_WINDOW_MISSED, Actor.SYSTEM, at, cancel_reason=TRANSFER_NOT_MADE
    )
    ended = ended.noting(
        at,
        "cancelled",
        "The seller did not transfer the ticket or booking before the event started: the order "
        "is cancelled and the hold on your card released, nothing was charged. We are sorry; "
        "a specialist follows up with you",
    )
    events = (cancelled(ended, TRANSFER_NOT_MADE, "system", at),)
    return Outcome(ended, events, stock_back=True)
