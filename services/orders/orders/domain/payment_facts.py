"""What payments tells orders: the card authorized or refused, the money captured, released,
refunded, or the hold voided, and what each does to the order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from contracts import Money
from contracts.orders import OrderCompleted
from orders.domain.order import Order, TimelineEntry
from orders.domain.outcome import Outcome, cancelled, order_fact
from orders.domain.state_machine import TRANSITIONS, Action, Actor, PaymentState, Status

CARD_NOT_AUTHORIZED = "The card was not authorized"
# Who may read why the buyer's card was refused: the buyer, and staff helping them.
_SEE_CARD_DECLINES = frozenset({Actor.BUYER, Actor.AGENT, Actor.OPERATOR})
# How payments names a void that a support ticket asked for (`PaymentVoided.reason`).
SUPPORT_VOID_PREFIX = "Support ticket"
# Why an order ended when its hold was released under it (`cancel_reason`, OrderCancelled).
RELEASED_BY_SUPPORT = "released_by_support"
HOLD_RELEASED = "hold_released"


def record_authorization(order: Order, amount: Money, at: datetime) -> Outcome:
    order = order.apply(
        Action.PAYMENT_AUTHORIZED,
        Actor.SYSTEM,
        at,
        payment_state=PaymentState.AUTHORIZED,
        authorized=amount,
    )
    return Outcome(
        order.noting(
            at,
            "payment_authorized",
            f"Card authorized for {amount.display()}; waiting for the seller",
        )
    )


def record_authorization_failure(order: Order, reason: str, at: datetime) -> Outcome:
    order = order.apply(
        Action.PAYMENT_FAILED,
        Actor.SYSTEM,
        at,
        payment_state=PaymentState.FAILED,
        cancel_reason="payment_failed",
    )
    order = order.noting(at, "cancelled", f"{CARD_NOT_AUTHORIZED}: {reason}")
    return Outcome(order, (cancelled(order, "payment_failed", "system", at),), stock_back=True)


def timeline_for(order: Order, actor: Actor) -> tuple[TimelineEntry, ...]:
    """The timeline as `actor` may read it: the reason the buyer's card was refused (the
    bank's words, e.g. insufficient funds) is the buyer's business, not the seller's."""
    if actor in _SEE_CARD_DECLINES:
        return order.timeline
    return tuple(
        replace(entry, detail=CARD_NOT_AUTHORIZED)
        if entry.kind == "cancelled" and entry.detail.startswith(CARD_NOT_AUTHORIZED)
        else entry
        for entry in order.timeline
    )


def record_payment(order: Order, state: PaymentState, at: datetime, **amounts: Money) -> Outcome:
    """A payment fact from payments (captured, voided, released): no change of status."""
    labels = {
        PaymentState.CAPTURED: "Payment captured into escrow",
        PaymentState.VOIDED: "Card authorization released; nothing was charged",
        PaymentState.RELEASED: "The seller was paid out of escrow",
    }
    changed = replace(order, payment_state=state, updated_at=at, **amounts)  # type: ignore[arg-type]
    return Outcome(changed.noting(at, f"payment_{state.value}", labels[state]))


class VoidOutcome(StrEnum):
    RECORDED = "recorded"  # the payment fact only: orders' own ending, or after shipment
    CANCELLED = "cancelled"  # the order was still open: it ends here


def record_void(order: Order, reason: str | None, at: datetime) -> tuple[Outcome, VoidOutcome]:
    """Payments released the card's hold. After orders' own cancel, decline or expiry that is
    only the payment fact. Under an order still open before shipment the hold was released by
    someone else (support refunding it): nothing could be captured any more, so the order is
    cancelled rather than left for the seller to ship it for nothing."""
    recorded = record_payment(order, PaymentState.VOIDED, at).order
    if (order.status, Action.PAYMENT_VOIDED) not in TRANSITIONS:
        return Outcome(recorded), VoidOutcome.RECORDED
    by_support = reason is not None and reason.startswith(SUPPORT_VOID_PREFIX)
    cancel_reason = RELEASED_BY_SUPPORT if by_support else HOLD_RELEASED
    ended = recorded.apply(Action.PAYMENT_VOIDED, Actor.SYSTEM, at, cancel_reason=cancel_reason)
    detail = (
        "Support refunded the order before it shipped: the hold on the buyer's card is released, "
        "nothing was charged, and the order is cancelled"
        if by_support
        else "The hold on the buyer's card was released before shipment: nothing was charged, "
        "and the order is cancelled"
    )
    ended = ended.noting(at, "cancelled", detail)
    # Not the seller's doing: notifications tell both parties, standards count nothing.
    events = (cancelled(ended, cancel_reason, "system", at),)
    return Outcome(ended, events, stock_back=True), VoidOutcome.CANCELLED


def record_refund(order: Order, total_refunded: Money, full: bool, at: datetime) -> Outcome:
    """Money went back to the buyer; a full refund ends a return or a dispute."""
    state = PaymentState.REFUNDED if full else PaymentState.PARTIALLY_REFUNDED
    if full and (order.status, Action.PAYMENT_REFUNDED) in TRANSITIONS:
        order = order.apply(Action.PAYMENT_REFUNDED, Actor.SYSTEM, at)
    changed = replace(order, payment_state=state, updated_at=at, refunded=total_refunded)
    what = "Refunded in full" if full else "Partly refunded"
    return Outcome(
        changed.noting(at, "refunded", f"{what}: {total_refunded.display()} back to the buyer")
    )


def record_dispute_closed(
    order: Order, won: bool, refundable: Money | None, at: datetime
) -> Outcome:
    """The buyer's bank decided a chargeback. Lost with nothing left to refund (`refundable`
    zero): the money is gone to the buyer, the order ends `refunded`. Otherwise (won, or lost
    in part) the money left goes on to the seller: a disputed order completes (the seller is
    paid on `order.completed`), any other carries on as it was (the seller is paid when it
    completes, or was already)."""
    if not won and refundable is not None and refundable.amount_minor == 0:
        ended = order.apply(Action.CHARGEBACK_LOST, Actor.SYSTEM, at)
        return Outcome(
            ended.noting(
                at,
                "refunded",
                "The buyer's bank decided the chargeback for the buyer: the money went back "
                "to them through their bank",
            )
        )
    if order.status is not Status.DISPUTED:
        what = "for the seller" if won else "for the buyer, in part"
        return Outcome(order.noting(at, "chargeback_closed", f"Chargeback decided {what}"))
    completed = order.apply(Action.CHARGEBACK_SETTLED, Actor.SYSTEM, at, completed_at=at)
    completed = completed.noting(
        at,
        "completed",
        "The buyer's bank decided the chargeback"
        + (" for the seller" if won else " for the buyer in part")
        + "; the seller is paid what is left",
    )
    event = OrderCompleted(**order_fact(completed, at), total=order.total, confirmed_by="system")
    return Outcome(completed, (event,))
