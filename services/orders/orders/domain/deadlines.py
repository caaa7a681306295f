"""Deadlines: when they fall (business days, saturating at the end of time) and what happens
when one passes unattended."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from contracts.orders import OrderCompleted, OrderShipmentOverdue
from orders.domain.errors import DomainError
from orders.domain.order import Order
from orders.domain.outcome import Outcome, cancelled, order_fact
from orders.domain.state_machine import Action, Actor, Fulfilment, Status
from servicekit.domain.calendar import BusinessCalendar

ONE_DAY = timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC)


def later(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, or the end of time rather than an OverflowError: a date stored before
    dates were bounded (an event on 9999-12-31) must not leave its order stuck."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST


def ship_deadline(order: Order, accepted_at: datetime, calendar: BusinessCalendar) -> datetime:
    """`handling_days` business days after acceptance; a transfer also before its event."""
    deadline = calendar.add_business_days(accepted_at, order.handling_days)
    if order.event_date is not None:
        day_before = later(datetime.combine(order.event_date, deadline.timetz()), -ONE_DAY)
        deadline = min(deadline, max(day_before, accepted_at))
    return deadline


def transfer_auto_complete(order: Order, at: datetime, confirmation_days: int) -> datetime | None:
    """A transfer has no delivery: it completes by itself `confirmation_days` after its
    event (or after the hand-over, if that is later) unless the buyer reports a problem."""
    if order.fulfilment is not Fulfilment.TRANSFER:
        return None
    start = at
    if order.event_date is not None:
        start = max(at, datetime.combine(order.event_date, at.timetz()))
    return later(start, timedelta(days=confirmation_days))


def expire_acceptance(order: Order, at: datetime) -> Outcome:
    """The seller did not accept in time: cancelled, the authorization released."""
    order = order.apply(
        Action.ACCEPTANCE_EXPIRED, Actor.SYSTEM, at, cancel_reason="acceptance_window_missed"
    )
    order = order.noting(
        at, "cancelled", "The seller did not confirm in time; the authorization is released"
    )
    return Outcome(
        order, (cancelled(order, "acceptance_window_missed", "system", at),), stock_back=True
    )


def flag_shipment_overdue(order: Order, at: datetime) -> Outcome:
    """Ship-by passed without a tracking number: noted once; support and the buyer are told."""
    if order.status is not Status.ACCEPTED or order.shipment_overdue:
        raise DomainError("not-overdue", "Only an accepted order not yet flagged can be overdue")
    order = replace(order, shipment_overdue=True, updated_at=at)
    order = order.noting(
        at,
        "shipment_overdue",
        "No tracking number yet: we opened a ticket and a specialist follows up",
    )
    overdue = OrderShipmentOverdue(
        **order_fact(order, at), ship_by=order.ship_by, accepted_at=order.accepted_at
    )
    return Outcome(order, (overdue,))


def auto_complete(order: Order, at: datetime) -> Outcome:
    order = order.apply(Action.AUTO_COMPLETE, Actor.SYSTEM, at, completed_at=at)
    order = order.noting(
        at, "completed", "No problem was reported in time; the seller is paid from escrow"
    )
    completed = OrderCompleted(**order_fact(order, at), total=order.total, confirmed_by="system")
    return Outcome(order, (completed,))
