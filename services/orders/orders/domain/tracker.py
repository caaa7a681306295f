"""The order view's three steps (confirmed, shipped, completed) and the words the buyer reads
in them: what is done, where the order is now, what happens next and by when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from orders.domain.order import Order, OrderRules
from orders.domain.payment_facts import HOLD_RELEASED, RELEASED_BY_SUPPORT
from orders.domain.state_machine import Fulfilment, PaymentState, Status
from servicekit.domain.calendar import BusinessCalendar


class StepState(StrEnum):
    DONE = "done"
    CURRENT = "current"
    UPCOMING = "upcoming"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Step:
    name: str
    state: StepState
    done_at: datetime | None
    expected_by: datetime | None
    message: str


def _business_days(count: int) -> str:
    return f"{count} business day{'' if count == 1 else 's'}"


def dated(moment: date | datetime | None) -> str:
    return f"{moment:%A} {moment.day} {moment:%B}" if moment else "soon"


def _moment(moment: datetime | None) -> str:
    return f"{moment:%H:%M} UTC on {dated(moment)}" if moment else "soon"


def _decided_by_deadline(order: Order) -> bool:
    """Returned because the seller let a deadline pass (not because they confirmed it)."""
    kinds = {"return_unconfirmed", "replacement_not_shipped"}
    return any(entry.kind in kinds for entry in order.timeline)


def steps(order: Order, calendar: BusinessCalendar, rules: OrderRules) -> list[Step]:
    """The three steps the buyer sees (confirmed, shipped, completed): what is done, where the
    order is now, what happens next and by when."""
    return [_confirmed(order), _shipped(order, calendar), _completed(order, calendar, rules)]


_HOLD_RELEASED_MESSAGES = {
    RELEASED_BY_SUPPORT: "Support released the hold on your card before the order shipped, so "
    "the order was cancelled and nothing was charged.",
    HOLD_RELEASED: "The hold on your card was released before the order shipped, so the order "
    "was cancelled and nothing was charged.",
}


# The hold on the buyer's card could not be renewed (payments, #18): nothing ships until the
# buyer gives another card on the order page.
HOLD_LAPSED_MESSAGE = (
    "The hold on your card lapsed and could not be renewed, so the seller cannot ship yet. "
    "Give another card on this order's page; once it is authorized the seller ships. Nothing "
    "is charged until then, and without a new card the order is cancelled."
)


def _confirmed(order: Order) -> Step:
    if order.accepted_at:
        return Step(
            "confirmed",
            StepState.DONE,
            order.accepted_at,
            order.accept_by,
            f"The seller confirmed your order on {dated(order.accepted_at)}.",
        )
    if order.status is Status.PLACED:
        return Step(
            "confirmed",
            StepState.CURRENT,
            None,
            order.accept_by,
            "We are authorizing your card. Once it is, the seller confirms your order "
            f"and starts processing, by {dated(order.accept_by)}. If the card is not authorized "
            f"by {_moment(order.act_by)}, the order is cancelled.",
        )
    if order.status is Status.AWAITING_SELLER:
        if order.payment_state is PaymentState.HOLD_LAPSED:
            return Step("confirmed", StepState.CURRENT, None, order.accept_by, HOLD_LAPSED_MESSAGE)
        return Step(
            "confirmed",
            StepState.CURRENT,
            None,
            order.accept_by,
            "Your card is authorized, not charged. The seller confirms your order and "
            f"starts processing by {dated(order.accept_by)}; if not, the order is "
            "cancelled and the authorization released.",
        )
    reasons = {
        "payment_failed": "Your card could not be authorized, so the order was cancelled and "
        "nothing was charged.",
        "declined": "The seller declined the order; the authorization is released and nothing "
        "was charged.",
        "acceptance_window_missed": "The seller did not confirm in time, so the order was "
        "cancelled; the authorization is released and nothing was charged.",
        "payment_not_completed": "Your card was not authorized within the time allowed (for "
        "example, a 3-D Secure check was not completed), so the order was cancelled and "
        "nothing was charged.",
        **_HOLD_RELEASED_MESSAGES,
    }
    message = reasons.get(
        order.cancel_reason or "", "This order was cancelled; nothing was charged."
    )
    return Step("confirmed", StepState.SKIPPED, None, None, message)


def _shipped(order: Order, calendar: BusinessCalendar) -> Step:
    transfer = order.fulfilment is Fulfilment.TRANSFER
    proof = "a transfer reference" if transfer else "a tracking number"
    if order.shipped_at:
        detail = (
            f"Transferred with reference {order.transfer_reference}"
            if transfer
            else f"Shipped with {order.carrier}, tracking number {order.tracking_number}"
        )
        settled = {
            Status.COMPLETED: " The seller has been paid out of escrow.",
            Status.RETURNED: " Your payment is being refunded.",
            Status.REFUNDED: " Your payment was refunded.",
        }
        after = settled.get(order.status, " Your payment is held in escrow until you confirm.")
        if order.event is not None and order.status is Status.SHIPPED:
            name = order.recipient.name if order.recipient else "you"
            detail = f"Transferred to {name}, reference {order.transfer_reference}"
            after = (
                f" Your payment is held in escrow until {_moment(order.auto_complete_at)}, "
                "after the event, so you are covered at the door."
            )
        return Step("shipped", StepState.DONE, order.shipped_at, order.ship_by, f"{detail}.{after}")
    if order.status is Status.ACCEPTED:
        if order.payment_state is PaymentState.HOLD_LAPSED:
            message = HOLD_LAPSED_MESSAGE
        elif order.shipment_overdue:
            message = (
                f"The seller has not given {proof} by {dated(order.ship_by)}. We opened a ticket "
                "and a specialist follows up with you. If nothing is sent by "
                f"{dated(order.act_by)}, the order is cancelled and the hold on your card "
                "released."
            )
        else:
            low, high = order.handling_days, order.handling_days + 2
            message = (
                f"Usually within {low}-{high} business days you get {proof}; your card is "
                f"charged into escrow then. The seller has until {dated(order.ship_by)}. If you "
                "don't get it, we open a ticket and a specialist follows up."
            )
        return Step("shipped", StepState.CURRENT, None, order.ship_by, message)
    if order.status in (Status.PLACED, Status.AWAITING_SELLER):
        expected = calendar.add_business_days(order.accept_by, order.handling_days)
        return Step(
            "shipped",
            StepState.UPCOMING,
            None,
            expected,
            f"Once the seller confirms, you get {proof} within "
            f"{_business_days(order.handling_days)}; your card is charged into escrow then.",
        )
    if order.cancel_reason == "shipment_window_missed":
        return Step(
            "shipped",
            StepState.SKIPPED,
            None,
            None,
            f"The seller did not send it, even after the grace past {dated(order.ship_by)}, so "
            "the order was cancelled and the hold on your card released: nothing was charged.",
        )
    if order.cancel_reason == "seller_backed_out":
        return Step(
            "shipped",
            StepState.SKIPPED,
            None,
            None,
            "The seller withdrew before handing it over. A specialist is on it: you get "
            "an alternative or your money back.",
        )
    released = _HOLD_RELEASED_MESSAGES.get(order.cancel_reason or "")
    if released:
        return Step("shipped", StepState.SKIPPED, None, None, released)
    return Step("shipped", StepState.SKIPPED, None, None, "Cancelled before fulfilment.")


def held_for_event(order: Order) -> str:
    """Where a resale event's money is once transferred: held until after the event (#20)."""
    event = order.event
    assert event is not None
    local = event.local(event.starts_at)
    bring = (
        "check in with an ID in the recipient's name"
        if event.kind.value == "hotel_booking"
        else "bring the reference and an ID in the recipient's name"
    )
    confirmed = "You confirmed it is in your name. " if order.receipt_confirmed_at else ""
    return (
        f"{confirmed}{event.name} at {event.venue} starts {local:%A %d %B %H:%M} (local time): "
        f"{bring}. Your payment is held until {_moment(order.auto_complete_at)}, the day "
        "after the event; if you are refused entry or the booking is not found, report a "
        "problem before then and a specialist steps in at once. After that the seller is paid."
    )


def _completed(order: Order, calendar: BusinessCalendar, rules: OrderRules) -> Step:
    status = order.status
    if status is Status.COMPLETED:
        return Step(
            "completed",
            StepState.DONE,
            order.completed_at,
            order.completed_at,
            "Completed: the seller has been paid out of escrow."
            + ("" if order.reviewed else " You can leave a review."),
        )
    if status in (Status.CANCELLED, Status.DECLINED):
        return Step("completed", StepState.SKIPPED, None, None, "Cancelled before fulfilment.")
    if status is Status.REFUNDED:
        return Step(
            "completed",
            StepState.SKIPPED,
            None,
            None,
            "Refunded: your money is on its way back to your card.",
        )
    if status is Status.RETURNED and _decided_by_deadline(order):
        return Step(
            "completed",
            StepState.SKIPPED,
            None,
            None,
            "The seller did not act in time, so you are refunded; your refund is on its way "
            "and a specialist has the case on record.",
        )
    if status is Status.RETURNED:
        return Step(
            "completed",
            StepState.SKIPPED,
            None,
            None,
            "Returned: the seller has it back and your refund is on its way.",
        )
    if order.shipped_at is None:
        base = order.ship_by or calendar.add_business_days(order.accept_by, order.handling_days)
        expected = calendar.add_business_days(base, rules.transit_business_days) + timedelta(
            days=rules.confirmation_days
        )
        return Step(
            "completed",
            StepState.UPCOMING,
            None,
            expected,
            "Once it reaches you, confirm it is as described and the seller is paid out "
            "of escrow. If something is wrong, report a problem instead.",
        )
    expected = order.auto_complete_at or (
        calendar.add_business_days(order.shipped_at, rules.transit_business_days)
        + timedelta(days=rules.confirmation_days)
    )
    transfer = order.fulfilment is Fulfilment.TRANSFER
    if order.event is not None and status is Status.SHIPPED:
        return Step("completed", StepState.CURRENT, None, expected, held_for_event(order))
    messages = {
        Status.SHIPPED: (
            "Once the booking is yours, confirm it and the seller is paid out of escrow."
            if transfer
            else "The carrier has not reported a delivery. Did it arrive? Confirm it, or "
            f"report a problem by {dated(order.auto_complete_at)}; otherwise the order "
            "completes by itself."
            if order.auto_complete_at is not None
            else "On its way. When it arrives, confirm it is as described and the seller is "
            "paid out of escrow; if something is wrong, report a problem. If the carrier "
            f"reports no delivery by {dated(order.act_by)}, we ask you whether it arrived."
        ),
        Status.DELIVERY_FAILED: (
            f"Delivery attempt {order.delivery_attempts} failed. Choose a date for another "
            f"attempt by {dated(order.act_by)}, or report a problem; otherwise the parcel goes "
            "back to the seller and a specialist follows up."
        ),
        Status.DELIVERED: (
            f"Delivered. Confirm it is as described by {dated(order.auto_complete_at)}; if you "
            "report no problem by then, the order completes by itself. Returns are possible "
            f"until {dated(order.return_until)}."
        ),
        Status.DISPUTED: (
            "You reported a problem. A specialist follows up; your payment stays in escrow "
            "until it is resolved."
        ),
        Status.RETURN_REQUESTED: (
            f"Return booked: the pickup is on {dated(order.return_pickup_date)}. You are "
            "refunded once the seller has it back, and at the latest on "
            f"{dated(order.act_by)}."
        ),
        Status.EXCHANGE_REQUESTED: (
            "The seller has not sent the replacement in time: we opened a ticket. If none is "
            f"sent by {dated(order.act_by)}, you are refunded."
            if order.shipment_overdue
            else "The seller sends you a replacement with a new tracking number by "
            f"{dated(order.act_by)}; if not, we open a ticket, and without a replacement you "
            "are refunded."
        ),
        Status.RETURNED_TO_SENDER: (
            "The carrier is returning it to the seller. A specialist follows up with you."
        ),
    }
    return Step("completed", StepState.CURRENT, None, expected, messages.get(status, ""))
