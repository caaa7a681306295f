"""What support's resolutions do to the order (`support.ticket_resolved`): an agent decided a
ticket and the order moves accordingly. Support refuses beforehand what the order's status
does not allow, so a resolution that no longer fits (the order moved on meanwhile) is a
`TransitionRefused` the handler ignores. Money follows the order's events: payments captures
nothing on a reshipment (the first shipment was captured), voids or refunds on
`order.cancelled`, releases the rest to the seller on `order.completed`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from contracts.orders import OrderCompleted, OrderReshipRequested, OrderReturnRequested
from orders.domain.deadlines import deadline_on_entering, ship_deadline
from orders.domain.order import Order, OrderRules
from orders.domain.outcome import Outcome, cancelled, order_fact
from orders.domain.state_machine import Action, Actor, Status
from orders.domain.tracker import dated
from servicekit.domain.calendar import BusinessCalendar

# Why an order ended when support cancelled it (`cancel_reason`, OrderCancelled.reason).
CANCELLED_BY_SUPPORT = "cancelled_by_support"
_BEFORE_SHIPMENT = (Status.PLACED, Status.AWAITING_SELLER, Status.ACCEPTED)


def reship(
    order: Order,
    ticket_id: str,
    at: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules | None = None,
) -> Outcome:
    """Back to the seller to ship again, by a new ship-by from the listing's handling days."""
    ship_by = ship_deadline(order, at, calendar, rules)
    order = order.apply(
        Action.RESHIP,
        Actor.AGENT,
        at,
        ship_by=ship_by,
        shipment_overdue=False,
        delivery_attempts=0,
        redelivery_date=None,
        delivered_at=None,
        auto_complete_at=None,
    )
    order = order.noting(
        at, "reship_requested", f"Support asked the seller to ship it again by {dated(ship_by)}"
    )
    event = OrderReshipRequested(**order_fact(order, at), ticket_id=ticket_id, ship_by=ship_by)
    return Outcome(order, (event,))


def start_return(
    order: Order, note: str, at: datetime, calendar: BusinessCalendar, rules: OrderRules
) -> Outcome:
    """A return, as the buyer's own: a pickup is booked and the seller confirms it is back
    (or the deadline decides). Support's decision needs no return window."""
    pickup = calendar.add_business_days(at, rules.pickup_business_days).date()
    order = order.apply(Action.SUPPORT_RETURN, Actor.AGENT, at, return_pickup_date=pickup)
    order = order.noting(
        at, "return_requested", f"Support started a return; pickup on {dated(pickup)}"
    )
    reason = f"Support: {note}" if note.strip() else "Support decided a return"
    requested = OrderReturnRequested(
        **order_fact(order, at),
        reason=reason,
        pickup_date=pickup.isoformat(),
        confirm_by=deadline_on_entering(order, at, rules, calendar),
    )
    return Outcome(order, (requested,))


def cancel_by_support(order: Order, at: datetime) -> Outcome:
    """Cancelled: payments voids the hold (nothing captured) or refunds what was captured."""
    before_shipment = order.status in _BEFORE_SHIPMENT
    order = order.apply(Action.SUPPORT_CANCEL, Actor.AGENT, at, cancel_reason=CANCELLED_BY_SUPPORT)
    order = order.noting(
        at, "cancelled", "Support cancelled the order; the buyer's money is returned"
    )
    events = (cancelled(order, CANCELLED_BY_SUPPORT, "system", at),)
    return Outcome(order, events, stock_back=before_shipment)


def settle_dispute(order: Order, at: datetime, *, partly_refunded: bool) -> Outcome:
    """The dispute ends (`no_action`, or a partial refund): the order completes and the seller
    is paid what is left in escrow."""
    order = order.apply(Action.SETTLE_DISPUTE, Actor.AGENT, at, completed_at=at)
    detail = (
        "Support refunded part of the order and closed the dispute; the seller is paid the rest"
        if partly_refunded
        else "Support closed the dispute; the seller is paid from escrow"
    )
    order = order.noting(at, "completed", detail)
    completed = OrderCompleted(**order_fact(order, at), total=order.total, confirmed_by="system")
    return Outcome(replace(order), (completed,))
