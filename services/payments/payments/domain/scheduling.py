"""Which card operation runs next, and on which hold."""

from __future__ import annotations

from dataclasses import replace

from payments.domain.model import Operation, OperationKind, OperationState, Payment


def runnable(waiting: list[Operation]) -> list[Operation]:
    """The oldest waiting operation of each order: one order's card operations run one at a
    time, in the order they were decided, so that a capture decided while a renewal was on its
    way neither races it nor acts on the hold it replaces."""
    first: dict[str, Operation] = {}
    for operation in waiting:
        first.setdefault(operation.order_id, operation)
    return list(first.values())


def aimed_at_current_hold(operation: Operation, payment: Payment) -> Operation:
    """A capture, void or refund acts on the hold the payment has when it runs (a renewal may
    have replaced the one it had when it was decided). One already started keeps its target:
    it may have happened there."""
    if operation.state is OperationState.PENDING and operation.kind in (
        OperationKind.CAPTURE,
        OperationKind.VOID,
        OperationKind.REFUND,
    ):
        return replace(operation, payment_intent_id=payment.payment_intent_id)
    return operation
