"""The events payments publishes, built from the payment as a decision leaves it."""

from __future__ import annotations

from datetime import datetime

from contracts import Money
from contracts.payments import (
    CreditIssued,
    PaymentAuthorizationExpiring,
    PaymentAuthorizationFailed,
    PaymentAuthorizationRenewed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCaptureFailed,
    PaymentHoldLapsed,
    PaymentRefunded,
    PaymentRefundFailed,
    PaymentReleased,
    PaymentVoided,
)
from payments.domain.model import Operation, OperationKind, Payment


def authorized(payment: Payment, creditable_minor: int, now: datetime) -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=payment.order_id,
        payment_intent_id=payment.payment_intent_id or "",
        amount=payment.money(payment.card_minor),
        authorized_at=now,
        expires_at=payment.expires_at or now,
        credit_applied=payment.money(payment.credit_applied_minor)
        if payment.credit_applied_minor
        else None,
        creditable=payment.money(creditable_minor),
    )


def authorization_failed(payment: Payment, now: datetime) -> PaymentAuthorizationFailed:
    return PaymentAuthorizationFailed(
        order_id=payment.order_id,
        amount=payment.money(payment.total_minor),
        reason=payment.failure_reason or "declined",
        decline_code=payment.decline_code,
        failed_at=now,
    )


def authorization_renewed(
    renewed: Payment, replaced_payment_intent_id: str, now: datetime
) -> PaymentAuthorizationRenewed:
    return PaymentAuthorizationRenewed(
        order_id=renewed.order_id,
        payment_intent_id=renewed.payment_intent_id or "",
        replaced_payment_intent_id=replaced_payment_intent_id,
        amount=renewed.money(renewed.card_minor),
        expires_at=renewed.expires_at or now,
    )


def authorization_expiring(
    payment: Payment, reason: str, now: datetime
) -> PaymentAuthorizationExpiring:
    return PaymentAuthorizationExpiring(
        order_id=payment.order_id,
        buyer_id=payment.buyer_id,
        seller_id=payment.seller_id,
        amount=payment.money(payment.card_minor),
        expires_at=payment.expires_at or now,
        reason=reason,
    )


def voided(payment: Payment, reason: str, now: datetime) -> PaymentVoided:
    return PaymentVoided(
        order_id=payment.order_id,
        payment_intent_id=payment.payment_intent_id or "",
        amount=payment.money(payment.card_minor if payment.payment_intent_id else 0),
        voided_at=now,
        credit_returned=payment.money(payment.credit_applied_minor)
        if payment.credit_applied_minor
        else None,
        reason=reason,
    )


def captured(payment: Payment, now: datetime) -> PaymentCaptured:
    return PaymentCaptured(
        order_id=payment.order_id,
        payment_intent_id=payment.payment_intent_id or "",
        amount=payment.money(payment.captured_minor),
        captured_at=now,
        refundable=payment.money(payment.refundable_minor),
    )


def capture_failed(payment: Payment, reason: str, now: datetime) -> PaymentCaptureFailed:
    return PaymentCaptureFailed(
        order_id=payment.order_id,
        buyer_id=payment.buyer_id,
        seller_id=payment.seller_id,
        amount=payment.money(payment.total_minor),
        reason=reason,
        failed_at=now,
    )


def released(payment: Payment, now: datetime) -> PaymentReleased:
    return PaymentReleased(
        order_id=payment.order_id,
        seller_id=payment.seller_id,
        amount=payment.money(payment.released_minor),
        platform_fee=payment.money(payment.fee_minor),
        released_at=now,
        refundable=payment.money(payment.refundable_minor),
    )


def refunded(
    payment: Payment,
    requested_minor: int,
    to_card_minor: int,
    clawback_minor: int,
    reason: str,
    now: datetime,
) -> PaymentRefunded:
    return PaymentRefunded(
        order_id=payment.order_id,
        amount=payment.money(requested_minor),
        total_refunded=payment.money(payment.refunded_minor),
        full=payment.refunded_minor == payment.captured_minor,
        reason=reason,
        refunded_at=now,
        to_credit=payment.money(requested_minor - to_card_minor)
        if requested_minor > to_card_minor
        else None,
        clawed_back=payment.money(clawback_minor) if clawback_minor else None,
        captured=payment.money(payment.captured_minor),
        refundable=payment.money(payment.refundable_minor),
    )


# Support's ticket ids (`tkt_...`): a refund a ticket decided is keyed by it (`handlers.py`).
TICKET_ID_PREFIX = "tkt_"


def refund_failed(
    payment: Payment, operation: Operation, failure: str, now: datetime
) -> PaymentRefundFailed:
    """Stripe refused the refund `operation` for good: the buyer does not have it back."""
    key = operation.id.removeprefix(payment.operation_id(OperationKind.REFUND) + ":")
    return PaymentRefundFailed(
        order_id=payment.order_id,
        buyer_id=payment.buyer_id,
        seller_id=payment.seller_id,
        amount=payment.money(operation.amount_minor),
        reason=operation.reason or "refund",
        failure=failure[:500],
        ticket_id=key if key.startswith(TICKET_ID_PREFIX) else None,
        failed_at=now,
    )


def credit_issued(
    payment: Payment,
    amount: Money,
    balance_minor: int,
    reason: str,
    total_credited_minor: int,
    creditable_minor: int,
    now: datetime,
) -> CreditIssued:
    return CreditIssued(
        order_id=payment.order_id,
        buyer_id=payment.buyer_id,
        amount=amount,
        balance=amount.model_copy(update={"amount_minor": balance_minor}),
        reason=reason,
        issued_at=now,
        total_credited=payment.money(total_credited_minor),
        creditable=payment.money(creditable_minor),
    )


def hold_lapsed(payment: Payment, reason: str, now: datetime) -> PaymentHoldLapsed:
    return PaymentHoldLapsed(
        order_id=payment.order_id,
        buyer_id=payment.buyer_id,
        seller_id=payment.seller_id,
        amount=payment.money(payment.card_minor),
        expires_at=payment.expires_at or now,
        reason=reason,
    )
