"""Payments, as the property "no order waits for ever" walks it beside orders
(orders_model_test_helpers.Marketplace): what payments does with orders' events
(services/payments/README.md, "The life of a payment") and with its own card, timer and
support's refunds, as the facts it answers orders with. The answers queue per order and reach
orders when the walk delivers them (payments consumes and answers at its own pace), in order.

`unsettled` is the money half of the property: once payments has answered everything, an
order that ended holds no money (a cancelled or declined order's hold voided or its capture
refunded; a completed one released to the seller; a refunded one refunded), and a returned
one is not left waiting for its refund. Orders knows the money only from these facts (its
`payment_state`), so that is what is checked. A shipment whose hold had gone (voided or
lapsed, payments' answer not yet in) captures nothing: payments reports `capture_failed`,
support opens a ticket, and the order's money is support's (orders' view keeps showing the
hold), so the check leaves it out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.orders import (
    OrderCancelled,
    OrderCompleted,
    OrderDeclined,
    OrderReturned,
    OrderSellerBackedOut,
    OrderShipped,
)
from orders import domain
from orders.domain import Order, Outcome, PaymentState, Status

from orders_test_helpers import CALENDAR, RULES

Answer = Callable[[Order, datetime], Outcome]
LAPSED_HOLD_EXPIRES = timedelta(
    days=2
)  # after the lapse (payments' `expires_at`)  # (the order, now) -> what orders makes of it


@dataclass
class Ledger:
    """What payments did with one order's money."""

    asked: bool = False  # the card was asked (authorized or refused)
    held: bool = False  # a hold on the card (authorized, not voided, lapsed or captured)
    captured: bool = False
    released: bool = False
    refunded: bool = False  # everything refundable went back
    voided: bool = False
    capture_failed: bool = False  # `payment.capture_failed`: support opens a ticket


def _answers_of(ledger: Ledger, order: Order, event: object) -> list[Answer]:
    """Payments' answers to one of orders' events (and what it does to its ledger)."""
    if isinstance(event, OrderCancelled | OrderDeclined | OrderSellerBackedOut):
        if ledger.captured and not ledger.refunded:  # support's cancel after the capture
            ledger.refunded = True
            return [lambda o, now: domain.record_refund(o, o.total, True, now)]
        if not ledger.voided and not ledger.captured:
            # the hold voided; before the card was asked nothing is asked at all
            ledger.voided, ledger.held, ledger.asked = True, False, True
            return [lambda o, now: domain.record_void(o, "Order cancelled", now)[0]]
        return []
    if isinstance(event, OrderShipped) and not (ledger.captured or event.replacement):
        if not ledger.held:  # the hold went meanwhile: support's ticket, nothing for orders
            ledger.capture_failed = True
            return []
        ledger.captured, ledger.held = True, False  # a reshipment captures nothing more
        return [
            lambda o, now: domain.record_payment(o, PaymentState.CAPTURED, now, captured=o.total)
        ]
    if isinstance(event, OrderCompleted) and ledger.captured and not ledger.refunded:
        if ledger.released:
            return []
        ledger.released = True
        return [
            lambda o, now: domain.record_payment(o, PaymentState.RELEASED, now, released=o.total)
        ]
    if isinstance(event, OrderReturned) and ledger.captured and not ledger.refunded:
        ledger.refunded = True
        return [lambda o, now: domain.record_refund(o, o.total, True, now)]
    return []


class Payments:
    def __init__(self) -> None:
        self.ledgers: dict[str, Ledger] = {}
        self.answers: dict[str, list[Answer]] = {}

    def ledger(self, order_id: str) -> Ledger:
        return self.ledgers.setdefault(order_id, Ledger())

    def _answer(self, order_id: str, answers: list[Answer]) -> None:
        self.answers.setdefault(order_id, []).extend(answers)

    def heard(self, order: Order, events: tuple[object, ...]) -> None:
        """Orders published `events` about `order`: payments consumes them, in order."""
        for event in events:
            self._answer(order.id, _answers_of(self.ledger(order.id), order, event))

    def card(self, order_id: str, authorized: bool) -> None:
        """The card answered the authorization asked at `order.placed` (once; not after the
        order was cancelled before payments asked)."""
        ledger = self.ledger(order_id)
        if ledger.asked:
            return
        ledger.asked, ledger.held = True, authorized
        self._answer(
            order_id,
            [
                (lambda o, now: domain.record_authorization(o, o.total, now))
                if authorized
                else (lambda o, now: domain.record_authorization_failure(o, "declined", now))
            ],
        )

    def hold_lapses(self, order_id: str) -> None:
        """Payments' timer could not renew a hold still held: the buyer is asked for a card."""
        ledger = self.ledger(order_id)
        if ledger.held:
            ledger.held = False
            # the buyer may give another card until the lapsed hold would have expired
            self._answer(
                order_id,
                [lambda o, now: domain.record_hold_lapsed(o, now + LAPSED_HOLD_EXPIRES, now)],
            )

    def new_card(self, order_id: str) -> None:
        """The buyer's new card is authorized after a lapse."""
        ledger = self.ledger(order_id)
        if ledger.asked and not (ledger.held or ledger.captured or ledger.voided):
            ledger.held = True
            self._answer(
                order_id,
                [
                    lambda o, now: domain.record_authorization_renewed(
                        o, o.total, now, RULES, CALENDAR
                    )
                ],
            )

    def support_refunds(self, order_id: str, *, in_part: bool = False) -> None:
        """An agent resolved with `refund` (or `partial_refund`): everything refundable goes
        back (a void before the capture), once per ticket."""
        ledger = self.ledger(order_id)
        if ledger.captured and not ledger.refunded:
            ledger.refunded = not in_part
            self._answer(
                order_id, [lambda o, now: domain.record_refund(o, o.total, not in_part, now)]
            )
        elif ledger.held and not in_part:
            ledger.held, ledger.voided = False, True
            self._answer(
                order_id, [lambda o, now: domain.record_void(o, "Support ticket tkt_1", now)[0]]
            )

    def support_refunds_in_part(self, order_id: str) -> None:
        self.support_refunds(order_id, in_part=True)

    def pending(self, order_id: str) -> bool:
        return bool(self.answers.get(order_id))

    def next_answer(self, order_id: str) -> Answer | None:
        queued = self.answers.get(order_id)
        return queued.pop(0) if queued else None


# Money still held for an order: a hold on the card, or the captured amount in escrow.
HELD = frozenset(
    {
        PaymentState.AUTHORIZING,
        PaymentState.AUTHORIZED,
        PaymentState.HOLD_LAPSED,
        PaymentState.CAPTURED,
    }
)


def unsettled(order: Order, payments: Payments) -> str | None:
    """Why `order`'s money is not settled, once payments has answered everything about it:
    an order that ended (or completed) holds nothing (a hold voided, escrow released or
    refunded), a refunded one was refunded, a returned one has its refund (or had nothing
    captured to refund; a capture that failed is support's). A return started on an order
    refunded in full already ends `returned` with the money refunded: settled, though its
    status never reads `refunded` (a limit in the README)."""
    if payments.pending(order.id):
        return None  # payments has not answered yet
    if payments.ledger(order.id).capture_failed:
        return None  # support's: the ticket `capture_failed` opened, with its SLA
    state = order.payment_state
    if order.status in (Status.CANCELLED, Status.DECLINED, Status.COMPLETED) and state in HELD:
        return f"{order.status.value} with the payment still {state.value}"
    if order.status is Status.REFUNDED and state is not PaymentState.REFUNDED:
        return f"refunded with the payment {state.value}"
    if order.status is Status.RETURNED and state in (*HELD, PaymentState.RELEASED):
        # the money is still in escrow or with the seller, and no refund is coming
        return f"returned with the payment {state.value}, and no refund to come"
    return None
