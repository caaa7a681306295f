"""Refunds: to the card up to what it paid, the rest to credit; clawed back from the seller
after a payout; waiting for a capture under way; or, before any capture, a void."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from payments import ledger
from payments.domain.authorization import end_before_capture
from payments.domain.model import (
    Decision,
    Operation,
    OperationKind,
    Payment,
    PaymentRefused,
    PaymentState,
    as_captured,
    decided,
)
from payments.ledger import move


def refund(
    payment: Payment, amount_minor: int | None, reason: str, key: str, now: datetime
) -> Decision:
    """Return `amount_minor` (everything still refundable when None) to the buyer: to the card
    up to what the card paid, the rest back to their credit balance. After a payout the
    seller's share is clawed back from what they are owed, and the fee is returned in
    proportion."""
    if payment.state not in (
        PaymentState.CAPTURED,
        PaymentState.RELEASED,
        PaymentState.PARTIALLY_REFUNDED,
    ):
        raise PaymentRefused(
            f"nothing was captured on order {payment.order_id} (payment {payment.state.value})"
        )
    amount = payment.refundable_minor if amount_minor is None else amount_minor
    if amount <= 0 or amount > payment.refundable_minor:
        raise PaymentRefused(
            f"cannot refund {payment.shown(amount)}: "
            f"{payment.shown(payment.refundable_minor)} is still refundable"
        )
    card_refundable = payment.card_minor - payment.refunded_to_card_minor
    to_card = min(amount, card_refundable)
    to_credit = amount - to_card
    if payment.paid_out:
        clawback = clawed_back(payment, amount)
        sources = [
            ledger.Line(ledger.seller_payable(payment.seller_id), -clawback),
            ledger.Line(ledger.PLATFORM_FEES, -(amount - clawback)),
        ]
    else:
        sources = [ledger.Line(ledger.ESCROW, -amount)]
    refunded_total = payment.refunded_minor + amount
    refunded = replace(
        payment,
        refunded_minor=refunded_total,
        refunded_to_card_minor=payment.refunded_to_card_minor + to_card,
        state=PaymentState.REFUNDED
        if refunded_total == payment.captured_minor
        else PaymentState.PARTIALLY_REFUNDED,
    )
    operation = refunded.operation(OperationKind.REFUND, to_card, now, suffix=key, reason=reason)
    decided_entry = refunded.ledger_entry(
        f"{operation.id}:decided",
        now,
        f"Refund decided: {reason}",
        *sources,
        ledger.Line(ledger.REFUNDS_PENDING, to_card),
        ledger.Line(ledger.buyer_credit(payment.buyer_id), to_credit),
    )
    return decided(refunded, [operation], [decided_entry])


@dataclass(frozen=True)
class WaitingRefund:
    """A refund decided while the order's capture was at the card processor (the item came
    back, or an agent refunded, before the capture was confirmed): it is made when the
    capture is recorded, as a release that came early is."""

    order_id: str
    key: str
    amount_minor: int | None  # None: everything still refundable then
    reason: str
    requested_at: datetime


def capture_under_way(payment: Payment, operations: Iterable[Operation]) -> bool:
    """The order shipped and its capture is decided but not yet confirmed by Stripe."""
    return payment.state is PaymentState.AUTHORIZED and any(
        operation.kind is OperationKind.CAPTURE and operation.open for operation in operations
    )


def check_waiting_refund(
    payment: Payment, waiting: Sequence[WaitingRefund], request: WaitingRefund, now: datetime
) -> None:
    """Refuse `request` now if it could not be made once the capture lands (with the
    refunds already waiting), while the event that asked for it is at hand."""
    waiting_refunds_made(as_captured(payment), [*waiting, request], now)


def waiting_refunds_made(
    captured: Payment, waiting: Sequence[WaitingRefund], now: datetime
) -> Decision:
    decision = Decision(captured)
    for request in waiting:
        decision = decision.then(
            refund(decision.payment, request.amount_minor, request.reason, request.key, now)
        )
    return decision


def clawed_back(payment: Payment, amount_minor: int) -> int:
    """The seller's share of a refund of `amount_minor` decided after the payout; the rest is
    the fee's share, returned by the platform. Shares are rounded on the running total, so
    refunds in pieces return exactly the whole fee."""
    if not payment.paid_out:
        return 0
    after_release = payment.refunded_minor - payment.refunded_at_release_minor

    def fee_share(refunded: int) -> int:
        return payment.fee_minor * refunded // payment.escrow_at_release_minor

    return amount_minor - (fee_share(after_release + amount_minor) - fee_share(after_release))


def record_refund(payment: Payment, operation: Operation, now: datetime) -> Decision:
    return decided(
        payment,
        [],
        [
            payment.ledger_entry(
                operation.id,
                now,
                "Refund confirmed by the card processor",
                *move(operation.amount_minor, ledger.REFUNDS_PENDING, ledger.REFUNDS),
            )
        ],
    )


def refund_before_capture(
    payment: Payment,
    authorization: Operation | None,
    amount_minor: int | None,
    now: datetime,
    reason: str,
) -> Decision:
    """A `refund` decided before anything was captured gives the buyer everything back the
    only way there is: the hold is voided and reserved credit returned, as for a cancelled
    order. Only the whole of it: part of a hold cannot be given back."""
    if payment.state not in (PaymentState.AUTHORIZING, PaymentState.AUTHORIZED):
        raise PaymentRefused(
            f"nothing was captured on order {payment.order_id} (payment {payment.state.value})"
        )
    if amount_minor is not None and amount_minor != payment.total_minor:
        raise PaymentRefused(
            f"nothing was captured on order {payment.order_id} yet: only the whole "
            f"{payment.shown(payment.total_minor)} can be given back (a void), "
            f"not {payment.shown(amount_minor)}"
        )
    return end_before_capture(payment, authorization, now, reason)


def request_refund(
    payment: Payment,
    operations: Sequence[Operation],
    waiting: Sequence[WaitingRefund],
    amount_minor: int | None,
    reason: str,
    key: str,
    now: datetime,
    *,
    void_before_capture: bool = False,
) -> Decision | WaitingRefund | None:
    """What a request to refund does. None: a replay (decided before, or waiting already). A
    `WaitingRefund` while the capture is at the card processor, checked now against what will
    be captured. Before anything was captured, support's refund (`void_before_capture`) voids
    the hold; any other is refused. Otherwise the refund (`refund`)."""
    under_way = capture_under_way(payment, operations)
    if (
        void_before_capture
        and payment.state in (PaymentState.AUTHORIZING, PaymentState.AUTHORIZED)
        and not under_way
    ):
        authorization_id = payment.operation_id(OperationKind.AUTHORIZE)
        authorization = next((op for op in operations if op.id == authorization_id), None)
        return refund_before_capture(payment, authorization, amount_minor, now, reason)
    refund_id = payment.operation_id(OperationKind.REFUND, key)
    if any(operation.id == refund_id for operation in operations):
        return None
    if under_way:
        if any(request.key == key for request in waiting):
            return None
        request = WaitingRefund(payment.order_id, key, amount_minor, reason, now)
        check_waiting_refund(payment, waiting, request, now)
        return request
    return refund(payment, amount_minor, reason, key, now)
