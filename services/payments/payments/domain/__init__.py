"""Payments' rules: a payment's states, the card operations it needs, the ledger entries each
fact writes and the events it publishes. Pure: no I/O; Stripe is reached through `cards.py`,
time comes in as arguments. Every rule returns a `Decision`; handlers store it and publish its
events.

A payment holds the order's `total`: goodwill credit pays for part of it (`credit_applied`),
the card for the rest (`card_minor`). Every call to Stripe is an `Operation` recorded before it
is made; its id is also Stripe's idempotency key, so a replayed event finds the operation it
already asked for and a restarted worker looks up what Stripe did before asking again.

Read `model` (the nouns), then one module per concern: `authorization` (placement, voids,
renewals), `capture` (capture, release), `payouts` (payout accounts, runs, claw-backs),
`refunds`, `credits`, `disputes`, `outcomes` (what the processor's answer to each
operation does), `scheduling` (which operation runs next), `published` (the events).
"""

from payments.domain.authorization import (
    ORDER_ENDED,
    end_before_capture,
    place,
    record_authorization,
    record_renewal,
    record_void,
    release_hold,
    renew,
    renewal_due,
    renewal_obsolete,
    replace_card,
)
from payments.domain.capture import (
    capture,
    complete,
    record_capture,
    release,
    ship,
)
from payments.domain.credits import creditable_minor, goodwill_credit, issue_credit
from payments.domain.disputes import (
    dispute_amount,
    dispute_closed,
    dispute_opened,
    open_dispute,
    win_dispute,
)
from payments.domain.model import (
    CardOutcome,
    Decision,
    Operation,
    OperationKind,
    OperationState,
    Payment,
    PaymentRefused,
    PaymentState,
    as_captured,
    check_currency,
    decided,
)
from payments.domain.outcomes import Answer, OrderBooks, Terms, record_outcome
from payments.domain.refunds import (
    WaitingRefund,
    capture_under_way,
    check_waiting_refund,
    clawed_back,
    record_refund,
    refund,
    refund_before_capture,
    request_refund,
    waiting_refunds_made,
)
from payments.domain.scheduling import aimed_at_current_hold, runnable

__all__ = [
    "ORDER_ENDED",
    "Answer",
    "CardOutcome",
    "Decision",
    "Operation",
    "OperationKind",
    "OperationState",
    "OrderBooks",
    "Payment",
    "PaymentRefused",
    "PaymentState",
    "Terms",
    "WaitingRefund",
    "aimed_at_current_hold",
    "as_captured",
    "capture",
    "capture_under_way",
    "check_currency",
    "check_waiting_refund",
    "clawed_back",
    "complete",
    "creditable_minor",
    "decided",
    "dispute_amount",
    "dispute_closed",
    "dispute_opened",
    "end_before_capture",
    "goodwill_credit",
    "issue_credit",
    "open_dispute",
    "place",
    "record_authorization",
    "record_capture",
    "record_outcome",
    "record_refund",
    "record_renewal",
    "record_void",
    "refund",
    "refund_before_capture",
    "release",
    "release_hold",
    "renew",
    "renewal_due",
    "renewal_obsolete",
    "replace_card",
    "request_refund",
    "runnable",
    "ship",
    "waiting_refunds_made",
    "win_dispute",
]
