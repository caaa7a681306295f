"""Deadlines: when they fall (business days, saturating at the end of time) and what happens
when one passes unattended.

No order waits for ever: every status in which someone must act has a deadline, kept in the
order's `act_by`. Entering a status sets it (`deadline_on_entering`, applied to every kept
outcome by `scheduled`); when it passes, `act_on_deadline` decides by the status what happens
(an outcome that stays in the status sets its own next `act_by`: a second stage)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from contracts.orders import (
    OrderCompleted,
    OrderDeliveryUnconfirmed,
    OrderExchangeOverdue,
    OrderReturned,
    OrderReturnedToSender,
    OrderShipmentOverdue,
)
from orders.domain.errors import DomainError
from orders.domain.order import Order, OrderRules
from orders.domain.outcome import Outcome, cancelled, event_facts, order_fact
from orders.domain.resale import cancel_not_transferred, event_cap, release_at
from orders.domain.state_machine import Action, Actor, Fulfilment, PaymentState, Status
from orders.domain.tracker import dated
from servicekit.domain.calendar import BusinessCalendar

# Why an order was cancelled when a deadline passed (`cancel_reason`, OrderCancelled.reason).
PAYMENT_NOT_COMPLETED = "payment_not_completed"
SHIPMENT_WINDOW_MISSED = "shipment_window_missed"  # counted against the seller
HOLD_NOT_REPLACED = "payment_hold_lapsed"  # the buyer gave no new card: not the seller's
# Where a lapsed hold makes the order wait for the buyer's new card (before shipment): its
# deadline is the lapsed hold's expiry, and the seller's clock waits (`payment_facts`).
WAITING_FOR_A_CARD = (Status.AWAITING_SELLER, Status.ACCEPTED)

ONE_DAY = timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC)


def later(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, or the end of time rather than an OverflowError: a date stored before
    dates were bounded (an event on 9999-12-31) must not leave its order stuck."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST


def ship_deadline(
    order: Order,
    accepted_at: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules | None = None,
) -> datetime:
    """`handling_days` business days after acceptance; a transfer also before its event (a
    resale event's: `event_cutoff` before its start, #20)."""
    deadline = calendar.add_business_days(accepted_at, order.handling_days)
    if order.event is not None:
        cap = event_cap(order.event, rules or OrderRules())
        deadline = min(deadline, max(cap, accepted_at))
    elif order.event_date is not None:
        day_before = later(datetime.combine(order.event_date, deadline.timetz()), -ONE_DAY)
        deadline = min(deadline, max(day_before, accepted_at))
    return deadline


def transfer_auto_complete(
    order: Order, at: datetime, confirmation_days: int, rules: OrderRules | None = None
) -> datetime | None:
    """A transfer has no delivery: it completes by itself `confirmation_days` after its
    event (or after the hand-over, if that is later) unless the buyer reports a problem. A
    resale event's completes when its money may be released (after the event's end), even
    if the buyer confirmed before (#20)."""
    if order.fulfilment is not Fulfilment.TRANSFER:
        return None
    release = release_at(order, rules or OrderRules())
    if release is not None:
        return max(at, release)
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
        **order_fact(order, at),
        ship_by=order.ship_by,
        accepted_at=order.accepted_at,
        event=event_facts(order.event),
    )
    return Outcome(order, (overdue,))


def auto_complete(order: Order, at: datetime) -> Outcome:
    order = order.apply(Action.AUTO_COMPLETE, Actor.SYSTEM, at, completed_at=at)
    order = order.noting(
        at, "completed", "No problem was reported in time; the seller is paid from escrow"
    )
    completed = OrderCompleted(**order_fact(order, at), total=order.total, confirmed_by="system")
    return Outcome(order, (completed,))


# --- every status's deadline -----------------------------------------------------------------


def deadline_on_entering(
    order: Order, at: datetime, rules: OrderRules, calendar: BusinessCalendar
) -> datetime | None:
    """When someone must have acted on `order`, which entered its status at `at` (None: nobody
    must; `returned_to_sender` and `disputed` wait for support, whose tickets have an SLA)."""
    match order.status:
        case Status.PLACED:  # the card: authorization, 3-D Secure
            return later(order.placed_at, timedelta(minutes=rules.payment_window_minutes))
        case Status.AWAITING_SELLER:  # the seller accepts
            return order.accept_by
        case Status.ACCEPTED:  # the seller ships (then a grace)
            if order.shipment_overdue and order.ship_by is not None:
                return shipment_grace_end(order, rules, calendar)
            return order.ship_by
        case Status.SHIPPED:  # the carrier delivers (a transfer: the buyer confirms)
            if order.auto_complete_at is not None:
                return order.auto_complete_at
            return later(at, timedelta(days=rules.unscanned_days))
        case Status.DELIVERED:  # the buyer confirms or reports a problem
            return order.auto_complete_at
        case Status.DELIVERY_FAILED:  # the buyer chooses another attempt
            return later(at, timedelta(days=rules.delivery_failed_days))
        case Status.RETURN_REQUESTED:  # the seller confirms it is back
            pickup = order.return_pickup_date or at.date()
            return later(
                datetime.combine(pickup, at.timetz()), timedelta(days=rules.return_confirm_days)
            )
        case Status.EXCHANGE_REQUESTED:  # the seller ships the replacement (then a grace)
            return calendar.add_business_days(at, order.handling_days)
    return None


def scheduled(
    before: Order, outcome: Outcome, at: datetime, rules: OrderRules, calendar: BusinessCalendar
) -> Outcome:
    """The outcome with the deadline of the status its order entered (if it changed status):
    every transition, whoever takes it, starts the clock of whoever must act next."""
    order = outcome.order
    if order.status is before.status:
        return outcome
    deadline = deadline_on_entering(order, at, rules, calendar)
    if order.payment_state is PaymentState.HOLD_LAPSED and order.status in WAITING_FOR_A_CARD:
        deadline = before.act_by  # accepted while the card lapsed: still the buyer's deadline
    return replace(outcome, order=replace(order, act_by=deadline))


def shipment_grace_end(
    order: Order,
    rules: OrderRules,
    calendar: BusinessCalendar,
    since: datetime | None = None,
) -> datetime:
    """The end of the grace after ship-by (or after `since`, when the order was found late
    after its ship-by) before an unshipped order is cancelled."""
    assert order.ship_by is not None
    start = max(order.ship_by, since) if since is not None else order.ship_by
    grace_end = calendar.add_business_days(start, rules.shipment_grace_business_days)
    if order.event is not None:
        # A ticket not transferred when the event starts is of no use: no waiting for
        # business days over the event's weekend (#20).
        grace_end = min(grace_end, max(order.event.starts_at, start))
    return grace_end


def act_on_deadline(
    order: Order, now: datetime, rules: OrderRules, calendar: BusinessCalendar
) -> Outcome:
    """`order`'s deadline passed with nobody having acted: what follows, by its status."""
    if order.act_by is None or order.act_by > now:
        raise DomainError("not-due", "Nothing is due on this order now")
    if order.payment_state is PaymentState.HOLD_LAPSED and order.status in WAITING_FOR_A_CARD:
        return cancel_lapsed_hold(order, now)
    match order.status:
        case Status.PLACED:
            return expire_payment(order, now)
        case Status.AWAITING_SELLER:
            return expire_acceptance(order, now)
        case Status.ACCEPTED if not order.shipment_overdue:
            # The grace runs from when the ticket opened and the buyer was told (ship-by,
            # unless the job was behind), so nobody loses any of it.
            overdue = flag_shipment_overdue(order, now)
            grace_end = shipment_grace_end(overdue.order, rules, calendar, since=now)
            return replace(overdue, order=replace(overdue.order, act_by=grace_end))
        case Status.ACCEPTED if order.event is not None and now >= order.event.starts_at:
            return cancel_not_transferred(order, now)
        case Status.ACCEPTED:
            return cancel_unshipped(order, now)
        case Status.SHIPPED if (
            order.fulfilment is not Fulfilment.TRANSFER and order.auto_complete_at is None
        ):
            return ask_about_delivery(order, now, rules)
        case Status.SHIPPED | Status.DELIVERED:
            return auto_complete(order, now)
        case Status.DELIVERY_FAILED:
            return return_undelivered(order, now)
        case Status.RETURN_REQUESTED:
            return refund_unconfirmed_return(order, now)
        case Status.EXCHANGE_REQUESTED if not order.shipment_overdue:
            refund_at = calendar.add_business_days(now, rules.exchange_grace_business_days)
            return flag_exchange_overdue(order, now, refund_at)
        case Status.EXCHANGE_REQUESTED:
            return refund_unshipped_exchange(order, now)
    # Nobody must act in this status (any more): nothing is due.
    return Outcome(replace(order, act_by=None))


def expire_payment(order: Order, at: datetime) -> Outcome:
    """The card was not authorized in time (a 3-D Secure check never completed): cancelled."""
    order = order.apply(
        Action.PAYMENT_WINDOW_MISSED, Actor.SYSTEM, at, cancel_reason=PAYMENT_NOT_COMPLETED
    )
    order = order.noting(
        at,
        "cancelled",
        "The card was not authorized in time (the payment was not completed); the order is "
        "cancelled and nothing was charged",
    )
    events = (cancelled(order, PAYMENT_NOT_COMPLETED, "system", at),)
    return Outcome(order, events, stock_back=True)


def cancel_lapsed_hold(order: Order, at: datetime) -> Outcome:
    """The hold on the buyer's card lapsed and they gave no other card by its expiry:
    cancelled, nothing charged, and not counted against the seller, who could not ship."""
    order = order.apply(Action.HOLD_NOT_REPLACED, Actor.SYSTEM, at, cancel_reason=HOLD_NOT_REPLACED)
    order = order.noting(
        at,
        "cancelled",
        "The buyer gave no other card after the hold on theirs could not be renewed; the "
        "order is cancelled and nothing was charged",
    )
    events = (cancelled(order, HOLD_NOT_REPLACED, "system", at),)
    return Outcome(order, events, stock_back=True)


def cancel_unshipped(order: Order, at: datetime) -> Outcome:
    """Not shipped by ship-by and its grace: cancelled, the authorization released (nothing
    was captured before shipment), and counted as the seller's cancellation."""
    order = order.apply(
        Action.SHIPMENT_WINDOW_MISSED, Actor.SYSTEM, at, cancel_reason=SHIPMENT_WINDOW_MISSED
    )
    order = order.noting(
        at,
        "cancelled",
        "The seller did not ship, even after the grace past the ship-by date; the order is "
        "cancelled and the authorization released: nothing was charged",
    )
    events = (cancelled(order, SHIPMENT_WINDOW_MISSED, "system", at),)
    return Outcome(order, events, stock_back=True)


def ask_about_delivery(order: Order, at: datetime, rules: OrderRules) -> Outcome:
    """Long after shipment no carrier reported a delivery: the buyer is asked whether it
    arrived; without a problem reported within the confirmation window it completes."""
    confirm_by = later(at, timedelta(days=rules.confirmation_days))
    order = replace(order, auto_complete_at=confirm_by, act_by=confirm_by, updated_at=at)
    order = order.noting(
        at,
        "delivery_unconfirmed",
        f"No delivery reported since it shipped on {dated(order.shipped_at)}: did it arrive? "
        f"Confirm it or report a problem by {dated(confirm_by)}; otherwise the order completes",
    )
    asked = OrderDeliveryUnconfirmed(
        **order_fact(order, at),
        shipped_at=order.shipped_at or at,
        confirm_by=confirm_by,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
    )
    return Outcome(order, (asked,))


def return_undelivered(order: Order, at: datetime) -> Outcome:
    """No other delivery attempt was asked for in time: the parcel goes back to the seller
    and support follows up (as when the carrier returns it)."""
    order = order.apply(Action.REDELIVERY_WINDOW_MISSED, Actor.SYSTEM, at)
    order = order.noting(
        at,
        "returned_to_sender",
        "No date for another delivery attempt was chosen in time: the parcel goes back to the "
        "seller and a specialist follows up",
    )
    returning = OrderReturnedToSender(
        **order_fact(order, at), attempts=order.delivery_attempts, fault="buyer"
    )
    return Outcome(order, (returning,))


def refund_unconfirmed_return(order: Order, at: datetime) -> Outcome:
    """The seller never confirmed the item is back: the buyer is refunded as if they had
    (support's ticket records it, so the seller can still show it never came)."""
    order = order.apply(Action.RETURN_UNCONFIRMED, Actor.SYSTEM, at)
    order = order.noting(
        at,
        "return_unconfirmed",
        "The seller did not confirm the return in time: the buyer is refunded and a ticket "
        "records it",
    )
    returned = OrderReturned(
        **order_fact(order, at),
        total=order.total,
        decided_by="system",
        reason="return_not_confirmed",
    )
    return Outcome(order, (returned,))


def flag_exchange_overdue(order: Order, at: datetime, refund_at: datetime) -> Outcome:
    """No replacement within the handling days: support opens a ticket, the buyer is told
    when they are refunded if none ships."""
    ship_by = order.act_by or at
    order = replace(order, shipment_overdue=True, act_by=refund_at, updated_at=at)
    order = order.noting(
        at,
        "exchange_overdue",
        "The replacement has not shipped: we opened a ticket and a specialist follows up; "
        f"without a replacement by {dated(refund_at)} the buyer is refunded",
    )
    overdue = OrderExchangeOverdue(**order_fact(order, at), ship_by=ship_by, refund_at=refund_at)
    return Outcome(order, (overdue,))


def refund_unshipped_exchange(order: Order, at: datetime) -> Outcome:
    order = order.apply(Action.REPLACEMENT_NOT_SHIPPED, Actor.SYSTEM, at)
    order = order.noting(
        at,
        "replacement_not_shipped",
        "The seller did not ship the replacement in time: the buyer is refunded",
    )
    returned = OrderReturned(
        **order_fact(order, at),
        total=order.total,
        decided_by="system",
        reason="replacement_not_shipped",
    )
    return Outcome(order, (returned,))
