"""Payments' rules: a payment's states and what a card authorization result does to it.
Pure: no I/O; Stripe is reached through `cards.py`, time comes in as arguments."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from contracts import Money


class PaymentState(StrEnum):
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    FAILED = "failed"


@dataclass(frozen=True)
class AuthorizationOutcome:
    """What the card network answered. `approved` False is final (declined, invalid card);
    a transient failure is an exception instead, and the authorization is tried again."""

    approved: bool
    payment_intent_id: str | None
    reason: str | None = None
    decline_code: str | None = None


@dataclass(frozen=True)
class Payment:
    order_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    payment_method: str
    state: PaymentState
    created_at: datetime
    correlation_id: str
    payment_intent_id: str | None = None
    authorized_at: datetime | None = None
    expires_at: datetime | None = None
    failure_reason: str | None = None
    decline_code: str | None = None
    authorize_started_at: datetime | None = None
    version: int = 1

    @property
    def idempotency_key(self) -> str:
        """Stripe idempotency key for the authorization, derived from our order id."""
        return f"order:{self.order_id}:authorize"

    def visible_to(self, principal_id: str, role: str) -> bool:
        return role in ("agent", "operator") or principal_id in (self.buyer_id, self.seller_id)


def start_authorization(payment: Payment, now: datetime) -> Payment:
    """Record that we are about to ask Stripe, so that a crash before we record the answer is
    recovered by looking the authorization up instead of asking for a second one."""
    if payment.authorize_started_at is not None:
        return payment
    return replace(payment, authorize_started_at=now)


def record_outcome(
    payment: Payment, outcome: AuthorizationOutcome, now: datetime, hold: timedelta
) -> Payment:
    if payment.state is not PaymentState.AUTHORIZING:
        raise ValueError(f"payment for {payment.order_id} is already {payment.state.value}")
    if outcome.approved:
        return replace(
            payment,
            state=PaymentState.AUTHORIZED,
            payment_intent_id=outcome.payment_intent_id,
            authorized_at=now,
            expires_at=now + hold,
        )
    return replace(
        payment,
        state=PaymentState.FAILED,
        payment_intent_id=outcome.payment_intent_id,
        failure_reason=outcome.reason or "declined",
        decline_code=outcome.decline_code,
    )
