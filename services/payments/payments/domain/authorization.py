"""Placement, the card authorization and its end before capture (a void), and renewing a
hold before it lapses."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from payments import ledger
from payments.domain import published
from payments.domain.model import (
    CardOutcome,
    Decision,
    Operation,
    OperationKind,
    OperationState,
    Payment,
    PaymentRefused,
    PaymentState,
    decided,
)
from payments.ledger import Entry, move


def place(payment: Payment, credit_balance_minor: int, now: datetime) -> Decision:
    """A new order's payment: spend the buyer's credit first, authorize the card for the rest."""
    credit = max(0, min(credit_balance_minor, payment.total_minor))
    placed = replace(payment, credit_applied_minor=credit, state=PaymentState.AUTHORIZING)
    reserve = placed.ledger_entry(
        placed.operation_id(OperationKind.AUTHORIZE, "credit"),
        now,
        "Goodwill credit set aside for the order",
        *move(credit, ledger.buyer_credit(payment.buyer_id), ledger.CREDIT_RESERVED),
    )
    authorize = placed.operation(OperationKind.AUTHORIZE, placed.card_minor, now)
    return decided(placed, [authorize], [reserve])


def _credit_returned(payment: Payment, entry_id: str, now: datetime) -> Entry | None:
    return payment.ledger_entry(
        entry_id,
        now,
        "Goodwill credit returned: the order did not go ahead",
        *move(
            payment.credit_applied_minor,
            ledger.CREDIT_RESERVED,
            ledger.buyer_credit(payment.buyer_id),
        ),
    )


def record_authorization(
    payment: Payment, operation: Operation, outcome: CardOutcome, now: datetime, hold: timedelta
) -> Decision:
    if payment.state not in (PaymentState.AUTHORIZING, PaymentState.REQUIRES_ACTION):
        return Decision(payment)
    if outcome.requires_action and not outcome.succeeded:
        # 3-D Secure: not a decline. The buyer completes it in the client with `next_action`;
        # Stripe's webhook then authorizes (`authenticated`); the order waits in `placed`.
        waiting = replace(
            payment,
            state=PaymentState.REQUIRES_ACTION,
            payment_intent_id=outcome.payment_intent_id,
            customer_id=outcome.customer_id or payment.customer_id,
            next_action=outcome.next_action,
        )
        if waiting.ended:  # the order ended while Stripe was being asked
            return end_before_capture(replace(waiting, ended=False), None, now)
        return Decision(waiting)
    if not outcome.succeeded:
        failed = replace(
            payment,
            state=PaymentState.FAILED,
            payment_intent_id=outcome.payment_intent_id,
            failure_reason=outcome.reason or "declined",
            decline_code=outcome.decline_code,
        )
        return decided(failed, [], [_credit_returned(failed, f"{operation.id}:failed", now)])
    authorized = replace(
        payment,
        state=PaymentState.AUTHORIZED,
        payment_intent_id=outcome.payment_intent_id,
        payment_method=outcome.payment_method_id or payment.payment_method,
        customer_id=outcome.customer_id or payment.customer_id,
        next_action=None,
        authorized_at=now,
        expires_at=now + hold,
    )
    hold_entry = authorized.ledger_entry(
        operation.id,
        now,
        "Card authorized",
        *move(authorized.card_minor, ledger.BUYER_CARD, ledger.AUTHORIZATION_HOLD),
    )
    decision = decided(authorized, [], [hold_entry])
    if authorized.ended:
        # The order ended while Stripe was being asked: void the hold it just granted.
        decision = decision.then(end_before_capture(replace(authorized, ended=False), None, now))
    return decision


ORDER_ENDED = "The order ended before shipment"


def end_before_capture(
    payment: Payment, authorization: Operation | None, now: datetime, reason: str = ORDER_ENDED
) -> Decision:
    """The order was cancelled, declined or abandoned by the seller before shipping (or
    support refunded it then): the hold is voided with `reason`."""
    if payment.state is PaymentState.AUTHORIZING:
        if authorization is not None and authorization.state is OperationState.PENDING:
            # Stripe was never asked: nothing to void.
            skipped = replace(authorization, state=OperationState.SKIPPED, finished_at=now)
            voided = replace(payment, state=PaymentState.VOIDED, ended=True)
            return decided(
                voided, [skipped], [_credit_returned(voided, f"{skipped.id}:skipped", now)]
            ).publishing(published.voided(voided, reason, now))
        # Stripe is being asked right now: void once the answer is recorded.
        return Decision(replace(payment, ended=True))
    if payment.state in _HELD_OR_WAITING and not payment.ended:
        ended = replace(payment, ended=True)
        void = ended.operation(OperationKind.VOID, ended.card_minor, now, reason=reason)
        return decided(ended, [void], [])
    return Decision(payment)


# A payment whose order ending cancels its PaymentIntent at Stripe: a hold (renewed or
# lapsing), or an intent waiting for the buyer's 3-D Secure.
_HELD_OR_WAITING = (
    PaymentState.AUTHORIZED,
    PaymentState.HOLD_LAPSED,
    PaymentState.REQUIRES_ACTION,
)


def record_void(payment: Payment, operation: Operation, now: datetime) -> Decision:
    voided = replace(payment, state=PaymentState.VOIDED, next_action=None)
    # An intent still waiting for 3-D Secure held nothing: no hold to give back.
    held = 0 if payment.state is PaymentState.REQUIRES_ACTION else payment.card_minor
    return decided(
        voided,
        [],
        [
            voided.ledger_entry(
                operation.id,
                now,
                "Card authorization voided; nothing was charged",
                *move(held, ledger.AUTHORIZATION_HOLD, ledger.BUYER_CARD),
            ),
            _credit_returned(voided, f"{operation.id}:credit", now),
        ],
    ).publishing(published.voided(voided, operation.reason or ORDER_ENDED, now))


def renewal_obsolete(payment: Payment, kind: OperationKind = OperationKind.REAUTHORIZE) -> bool:
    """A renewal that comes up after the payment moved on (captured, voided) is not made; nor
    a new card's authorization once the payment no longer waits for one."""
    waits_in = (
        PaymentState.HOLD_LAPSED if kind is OperationKind.REPLACE_CARD else PaymentState.AUTHORIZED
    )
    return payment.state is not waits_in or payment.ended


def renewal_due(payment: Payment, now: datetime, margin: timedelta) -> bool:
    """An authorization that lapses within `margin` and still has to be captured."""
    return (
        payment.state is PaymentState.AUTHORIZED
        and not payment.ended
        and not payment.expiry_escalated
        and payment.card_minor > 0
        and payment.expires_at is not None
        and payment.expires_at - margin <= now
    )


def renew(payment: Payment, now: datetime) -> Operation:
    return payment.operation(
        OperationKind.REAUTHORIZE,
        payment.card_minor,
        now,
        suffix=str(payment.reauthorizations + 1),
        reason="The authorization was about to lapse before shipment",
    )


def release_hold(payment: Payment, payment_intent_id: str, now: datetime, reason: str) -> Operation:
    """Cancel a hold the payment no longer uses (replaced by a renewal, or made after the
    payment moved on), rather than leave it on the buyer's card until it lapses."""
    return replace(
        payment.operation(
            OperationKind.RELEASE_HOLD,
            payment.card_minor,
            now,
            suffix=payment_intent_id,
            reason=reason,
        ),
        payment_intent_id=payment_intent_id,
    )


def record_renewal(
    payment: Payment, outcome: CardOutcome, now: datetime, hold: timedelta
) -> Payment:
    """A renewal's (or a new card's) answer. Refused: the hold lapses and the order waits for
    the buyer's new card (`HOLD_LAPSED`), never renewed again by the timer."""
    if not outcome.succeeded:
        return replace(payment, expiry_escalated=True, state=PaymentState.HOLD_LAPSED)
    return replace(
        payment,
        state=PaymentState.AUTHORIZED,
        expiry_escalated=False,
        payment_method=outcome.payment_method_id or payment.payment_method,
        customer_id=outcome.customer_id or payment.customer_id,
        payment_intent_id=outcome.payment_intent_id,
        authorized_at=now,
        expires_at=now + hold,
        reauthorizations=payment.reauthorizations + 1,
    )


def replace_card(payment: Payment, payment_method: str, now: datetime) -> Decision:
    """The buyer gave another card after a renewal failed (before shipment): authorize it
    (on-session: the buyer is there) and keep it on the order's Customer."""
    if payment.state is not PaymentState.HOLD_LAPSED or payment.ended:
        raise PaymentRefused(
            f"the payment is {payment.state.value}: a new card is asked for only after a "
            "hold lapsed, before shipment"
        )
    changed = replace(payment, payment_method=payment_method)
    operation = changed.operation(
        OperationKind.REPLACE_CARD,
        changed.card_minor,
        now,
        suffix=f"{payment.reauthorizations + 1}:{payment_method}",
        reason="The buyer gave another card after the hold lapsed",
    )
    return decided(changed, [operation], [])
