"""The payment, credits and ledger lines as the API shows them."""

import json
from typing import Any

from payments.domain import Operation, OperationKind, Payment


def _operation_view(operation: Operation, *, sees_failure: bool) -> dict[str, Any]:
    return {
        "id": operation.id,
        "state": operation.state.value,
        "amount": {"amount_minor": operation.amount_minor, "currency": operation.currency},
        "payment_intent_id": operation.payment_intent_id,
        "stripe_id": operation.stripe_id,
        "reason": operation.reason or None,
        "requested_at": operation.created_at.isoformat(),
        "finished_at": operation.finished_at.isoformat() if operation.finished_at else None,
        "failure": operation.failure if sees_failure else None,
    }


def payment_view(
    payment: Payment,
    operations: list[Operation],
    disputes: list[Any],
    *,
    staff: bool = True,
    buyer: bool = True,
) -> dict[str, Any]:
    """The payment as `staff` (agents, operators) or one of its parties sees it. Why the card
    was declined is the buyer's (and staff's) business, not the seller's; why an operation
    was set aside (Stripe's own words) is for staff."""
    sees_decline = staff or buyer

    def of(*kinds: OperationKind) -> list[dict[str, Any]]:
        return [_operation_view(op, sees_failure=staff) for op in operations if op.kind in kinds]

    def authorization_view(operation: Operation) -> dict[str, Any]:
        view = _operation_view(operation, sees_failure=sees_decline)
        declined = sees_decline and view["state"] == "failed"
        return view | {"decline_code": payment.decline_code if declined else None}

    money = payment.money
    return {
        "order_id": payment.order_id,
        "state": payment.state.value,
        "amount": money(payment.total_minor).model_dump(),
        "credit_applied": money(payment.credit_applied_minor).model_dump(),
        "authorized": money(payment.card_minor).model_dump(),
        "captured": money(payment.captured_minor).model_dump(),
        "refunded": money(payment.refunded_minor).model_dump(),
        "released": money(payment.released_minor).model_dump(),
        "platform_fee": money(payment.fee_minor).model_dump(),
        # A rebooking (#20): paid from `replaces`'s hold; the platform covers `covered`.
        "replaces": payment.replaces,
        "covered_by_platform": money(payment.cover_minor).model_dump(),
        "payment_intent_id": payment.payment_intent_id,
        "expires_at": payment.expires_at.isoformat() if payment.expires_at else None,
        "failure_reason": payment.failure_reason if sees_decline else None,
        "decline_code": payment.decline_code if sees_decline else None,
        # 3-D Secure: what the buyer's client does next (Stripe's `next_action`).
        "next_action": json.loads(payment.next_action)
        if payment.next_action and sees_decline
        else None,
        "authorizations": [
            authorization_view(op)
            for op in operations
            if op.kind
            in (OperationKind.AUTHORIZE, OperationKind.REAUTHORIZE, OperationKind.REPLACE_CARD)
        ],
        "voids": of(OperationKind.VOID, OperationKind.RELEASE_HOLD),
        "captures": of(OperationKind.CAPTURE),
        "refunds": of(OperationKind.REFUND),
        "payouts": of(OperationKind.TRANSFER),
        "disputes": [
            {
                "id": row.id,
                "status": row.status,
                "reason": row.reason,
                "amount": money(row.amount_minor).model_dump(),
                "opened_at": row.opened_at.isoformat(),
                "closed_at": row.closed_at.isoformat() if row.closed_at else None,
                "refusal": row.refusal if staff else None,
            }
            for row in disputes
        ],
    }


def line_view(row: Any) -> dict[str, Any]:
    return {
        "account": row.account,
        "amount": {"amount_minor": row.amount_minor, "currency": row.currency},
        "entry_id": row.entry_id,
        "at": row.at.isoformat(),
        "reason": row.reason,
    }
