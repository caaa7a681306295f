"""What a card processor's answer does to the payment: one rule per kind of operation, each
returning the whole `Decision` (payment, follow-up operations, ledger entries, events)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from payments import ledger
from payments.domain import published
from payments.domain.authorization import (
    record_authorization,
    record_renewal,
    record_void,
    release_hold,
    renewal_obsolete,
)
from payments.domain.capture import record_capture
from payments.domain.credits import creditable_minor
from payments.domain.model import CardOutcome, Decision, Operation, OperationKind, Payment
from payments.domain.refunds import WaitingRefund, record_refund


@dataclass(frozen=True)
class Terms:
    """The operators' settings the rules read."""

    authorization_hold: timedelta
    fee_bps: int
    credit_limit_bps: int


@dataclass(frozen=True)
class OrderBooks:
    """What recording an answer reads besides the payment: the order's ledger lines, the
    refunds waiting for its capture."""

    posted: Sequence[ledger.PostedLine]
    waiting_refunds: Sequence[WaitingRefund]


@dataclass(frozen=True)
class Answer:
    payment: Payment
    operation: Operation  # finished with the outcome
    outcome: CardOutcome
    now: datetime
    terms: Terms
    books: OrderBooks


def record_outcome(answer: Answer) -> Decision:
    """What the processor's answer to `answer.operation` decides."""
    return _RULES[answer.operation.kind](answer)


def _authorization(answer: Answer) -> Decision:
    payment, now = answer.payment, answer.now
    decision = record_authorization(
        payment, answer.operation, answer.outcome, now, answer.terms.authorization_hold
    )
    after = decision.payment
    if not answer.outcome.succeeded and answer.outcome.requires_action:
        return decision  # 3-D Secure: the buyer acts; a webhook authorizes (`webhooks.py`)
    if not answer.outcome.succeeded:
        return decision.publishing(published.authorization_failed(after, now))
    credited = ledger.credited_minor(answer.books.posted)
    creditable = creditable_minor(after, credited, answer.terms.credit_limit_bps)
    return decision.publishing(published.authorized(after, creditable, now))


def _renewal(answer: Answer) -> Decision:
    payment, outcome, now = answer.payment, answer.outcome, answer.now
    if renewal_obsolete(payment, answer.operation.kind):
        if outcome.succeeded and outcome.payment_intent_id:  # it moved on while Stripe answered
            reason = "Renewed after it was not needed"
            return Decision(
                payment, (release_hold(payment, outcome.payment_intent_id, now, reason),)
            )
        return Decision(payment)
    renewed = record_renewal(payment, outcome, now, answer.terms.authorization_hold)
    if not outcome.succeeded:
        reason = outcome.reason or "the card could not be authorized again"
        if answer.operation.kind is OperationKind.REPLACE_CARD:
            return Decision(payment)  # the buyer's new card refused: they may give another
        return Decision(renewed).publishing(
            published.authorization_expiring(payment, reason, now),
            published.hold_lapsed(payment, reason, now),
        )
    # The new hold replaces the old one, which is released rather than left to lapse.
    replaced = payment.payment_intent_id or ""
    release = release_hold(payment, replaced, now, "Replaced by a renewed authorization")
    return Decision(renewed, (release,)).publishing(
        published.authorization_renewed(renewed, replaced, now)
    )


def _capture(answer: Answer) -> Decision:
    payment, now = answer.payment, answer.now
    if not answer.outcome.succeeded:
        reason = answer.outcome.reason or "the capture was refused"
        return Decision(payment).publishing(published.capture_failed(payment, reason, now))
    return record_capture(
        payment, answer.operation, now, answer.terms.fee_bps, answer.books.waiting_refunds
    )


def _void(answer: Answer) -> Decision:
    # Refused too: the hold lapses on its own, and the order is over either way.
    return record_void(answer.payment, answer.operation, answer.now)


def _refund(answer: Answer) -> Decision:
    payment, operation = answer.payment, answer.operation
    if not answer.outcome.succeeded:
        # Refused for good: the money stays in `refunds_pending`, owed to the buyer; support
        # takes it up (an urgent ticket) and the buyer is told it did not arrive.
        failure = answer.outcome.reason or "the refund was refused"
        return Decision(payment).publishing(
            published.refund_failed(payment, operation, failure, answer.now)
        )
    decided_lines = [
        line for line in answer.books.posted if line.entry_id == f"{operation.id}:decided"
    ]
    requested = sum(line.amount_minor for line in decided_lines if line.amount_minor > 0)
    payable = ledger.seller_payable(payment.seller_id)
    clawback = -sum(line.amount_minor for line in decided_lines if line.account == payable)
    return record_refund(payment, operation, answer.now).publishing(
        published.refunded(
            payment, requested, operation.amount_minor, clawback, operation.reason, answer.now
        )
    )


def _transfer(answer: Answer) -> Decision:
    # Per-order transfers were replaced by payout runs (`payouts.py`); one recorded before
    # that is never made (the worker refuses it) and the amount stays payable for a run.
    return Decision(answer.payment)


def _released_hold(answer: Answer) -> Decision:
    # A hold replaced by a renewal was released (or lapses on its own): the payment is as it was.
    return Decision(answer.payment)


_RULES: dict[OperationKind, Callable[[Answer], Decision]] = {
    OperationKind.AUTHORIZE: _authorization,
    OperationKind.REAUTHORIZE: _renewal,
    OperationKind.REPLACE_CARD: _renewal,
    OperationKind.CAPTURE: _capture,
    OperationKind.VOID: _void,
    OperationKind.REFUND: _refund,
    OperationKind.TRANSFER: _transfer,
    OperationKind.RELEASE_HOLD: _released_hold,
}
