"""A hold on the buyer's card that payments could not renew (#18): the order waits for the
buyer's new card until the lapsed hold's expiry (then `deadlines.cancel_lapsed_hold` cancels
it, not held against the seller), and the seller's own clock is paused meanwhile: once a new
card is authorized their accept-by and ship-by move later by exactly the time the hold was
lapsed. Paused rather than restarted: the seller keeps the time they had, no more."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from contracts import Money
from orders.domain.deadlines import WAITING_FOR_A_CARD, deadline_on_entering
from orders.domain.order import Order, OrderRules
from orders.domain.outcome import Outcome
from orders.domain.state_machine import PaymentState
from servicekit.domain.calendar import BusinessCalendar

# The timeline's entry when the hold lapsed (its time is when the seller's clock paused).
HOLD_LAPSED_ENTRY = "payment_hold_lapsed"


def record_hold_lapsed(order: Order, at: datetime, expires_at: datetime | None = None) -> Outcome:
    """Payments could not renew the hold on the buyer's card: until the buyer gives another
    card the order cannot ship (`Order._condition_holds`). The order's deadline is now the
    buyer's, the lapsed hold's `expires_at` (`act_on_deadline` cancels it then, not held
    against the seller); the seller's own clock is paused meanwhile (`record_authorization_
    renewed`). Only a hold still held lapses: an order that shipped, ended or lapsed already
    is left as it is."""
    if order.payment_state is not PaymentState.AUTHORIZED or order.shipped_at is not None:
        return Outcome(order)
    lapsed = replace(order, payment_state=PaymentState.HOLD_LAPSED, updated_at=at)
    if order.status in WAITING_FOR_A_CARD and expires_at is not None:
        lapsed = replace(lapsed, act_by=max(expires_at, at))
    return Outcome(
        lapsed.noting(
            at,
            HOLD_LAPSED_ENTRY,
            "The hold on the buyer's card could not be renewed; waiting for the buyer to give "
            "another card before the order can ship",
        )
    )


def record_authorization_renewed(
    order: Order,
    amount: Money,
    at: datetime,
    rules: OrderRules | None = None,
    calendar: BusinessCalendar | None = None,
) -> Outcome:
    """A new hold replaced the old one. After a lapse it is the buyer's new card, and the
    seller may ship again: their accept-by and ship-by move later by exactly the time the
    hold was lapsed (the clock paused, so the buyer's wait never counts against them), and
    the order's deadline is theirs again. A routine renewal changes nothing the order shows."""
    if order.payment_state is not PaymentState.HOLD_LAPSED:
        return Outcome(order)
    lapsed_at = next(
        (entry.at for entry in reversed(order.timeline) if entry.kind == HOLD_LAPSED_ENTRY), at
    )
    paused = max(at - lapsed_at, timedelta(0))
    renewed = replace(
        order,
        payment_state=PaymentState.AUTHORIZED,
        authorized=amount,
        updated_at=at,
        accept_by=order.accept_by + paused,
        ship_by=order.ship_by + paused if order.ship_by is not None else None,
    )
    if order.status in WAITING_FOR_A_CARD:
        deadline = deadline_on_entering(
            renewed, at, rules or OrderRules(), calendar or BusinessCalendar()
        )
        renewed = replace(renewed, act_by=deadline)
    return Outcome(
        renewed.noting(
            at,
            "payment_authorization_renewed",
            f"The buyer's new card is authorized for {amount.display()}; the order can ship"
            + (
                f" (the seller's dates moved {_days(paused)} later: the card was lapsed)"
                if paused
                else ""
            ),
        )
    )


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 24 else f"{hours:.0f} hours"
