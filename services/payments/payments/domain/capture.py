"""Capture into escrow when the order ships and release to the seller when it completes (the
seller is paid by a payout run, `payouts.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from payments import ledger
from payments.domain import published
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
from payments.domain.rebooking import cover_at_capture
from payments.domain.refunds import WaitingRefund, waiting_refunds_made
from payments.ledger import move


def ship(payment: Payment, now: datetime) -> Decision:
    """The order shipped: capture into escrow. A payment with nothing to capture (declined,
    voided, or never authorized) goes to support; one captured already (a replay) or being
    voided stays as it is."""
    if payment.state is PaymentState.AUTHORIZED and not payment.ended:
        return capture(payment, now)
    if payment.state in (PaymentState.FAILED, PaymentState.VOIDED, PaymentState.AUTHORIZING):
        reason = f"the payment is {payment.state.value}"
        return Decision(payment).publishing(published.capture_failed(payment, reason, now))
    return Decision(payment)


def capture(payment: Payment, now: datetime) -> Decision:
    if payment.state is not PaymentState.AUTHORIZED or payment.ended:
        raise PaymentRefused(
            f"the order shipped but its payment is {payment.state.value}: nothing to capture"
        )
    return Decision(payment, (payment.operation(OperationKind.CAPTURE, payment.card_minor, now),))


def record_capture(
    payment: Payment,
    operation: Operation,
    now: datetime,
    fee_bps: int,
    waiting: Sequence[WaitingRefund] = (),
) -> Decision:
    """Escrow holds the order's total; refunds that waited for the capture are made, then a
    release that waited for it."""
    captured = as_captured(payment)
    decision = decided(
        captured,
        [],
        [
            captured.ledger_entry(
                operation.id,
                now,
                "Captured into escrow: the order shipped",
                *move(payment.card_minor, ledger.AUTHORIZATION_HOLD, ledger.ESCROW),
                *move(payment.credit_applied_minor, ledger.CREDIT_RESERVED, ledger.ESCROW),
            ),
            # a rebooking's dearer ticket: the platform's cover, the backing-out seller's charge
            *cover_at_capture(payment, operation.id, now),
        ],
    )
    decision = decision.then(waiting_refunds_made(captured, waiting, now))
    decision = replace(decision, waiting_refunds_made=True).publishing(
        published.captured(decision.payment, now)
    )
    if decision.payment.release_due:
        decision = decision.then(release(decision.payment, now, fee_bps))
    return decision


def release(payment: Payment, now: datetime, fee_bps: int) -> Decision:
    """Pay the seller what is in escrow, less the platform fee. Before the capture is
    confirmed, the release waits for it."""
    if payment.state in (PaymentState.AUTHORIZED, PaymentState.AUTHORIZING):
        return Decision(replace(payment, release_due=True))
    if payment.paid_out or payment.state not in (
        PaymentState.CAPTURED,
        PaymentState.PARTIALLY_REFUNDED,
    ):
        return Decision(payment)  # already released, refunded in full, or never charged
    escrow = payment.refundable_minor
    fee = escrow * fee_bps // 10_000
    released = replace(
        payment,
        state=PaymentState.RELEASED,
        released_minor=escrow - fee,
        fee_minor=fee,
        escrow_at_release_minor=escrow,
        refunded_at_release_minor=payment.refunded_minor,
        release_due=False,
    )
    return decided(
        released,
        [],
        [
            released.ledger_entry(
                payment.operation_id(OperationKind.TRANSFER, "release"),
                now,
                "Released from escrow: the buyer confirmed or the order completed",
                ledger.Line(ledger.ESCROW, -escrow),
                ledger.Line(ledger.seller_payable(payment.seller_id), escrow - fee),
                ledger.Line(ledger.PLATFORM_FEES, fee),
            )
        ],
    ).publishing(published.released(released, now))


def complete(payment: Payment, now: datetime, fee_bps: int) -> Decision:
    """The order completed: escrow is released to `seller_payable` (see `release`); the
    seller is paid by the next payout run (`payouts.py`), the one way money leaves."""
    return release(payment, now, fee_bps)
