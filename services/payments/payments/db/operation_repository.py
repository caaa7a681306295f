"""Card operations (every call to Stripe, recorded before it is made) and the refunds that
wait for their order's capture."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payments.db.tables import operations, refunds_waiting
from payments.domain import Operation, OperationKind, OperationState, WaitingRefund
from servicekit.messaging.db import insert_ignoring_duplicates
from servicekit.messaging.failures import ConcurrentUpdate

_OPERATION_FIELDS = [field.name for field in dataclasses.fields(Operation)]


def _operation_columns(operation: Operation) -> dict[str, Any]:
    return {name: getattr(operation, name) for name in _OPERATION_FIELDS} | {
        "kind": operation.kind.value,
        "state": operation.state.value,
    }


def _operation(row: Any) -> Operation:
    values = {name: getattr(row, name) for name in _OPERATION_FIELDS}
    return Operation(
        **values | {"kind": OperationKind(row.kind), "state": OperationState(row.state)}
    )


class Operations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_if_new(self, operation: Operation) -> bool:
        """Record an operation to run; False if one with this id (key) was recorded before."""
        statement = insert_ignoring_duplicates(self.session, operations).values(
            **_operation_columns(operation)
        )
        return bool((await self.session.execute(statement)).rowcount)

    async def get(self, operation_id: str) -> Operation | None:
        query = select(operations).where(operations.c.id == operation_id)
        row = (await self.session.execute(query)).first()
        return _operation(row) if row else None

    async def of_order(self, order_id: str) -> list[Operation]:
        query = (
            select(operations)
            .where(operations.c.order_id == order_id)
            .order_by(operations.c.created_at, operations.c.id)
        )
        return [_operation(row) for row in (await self.session.execute(query)).all()]

    async def open(
        self, limit: int, *, order_ids_waiting: frozenset[str] = frozenset()
    ) -> list[Operation]:
        """Operations still to run, oldest first (a started one is being resumed), leaving
        out the orders in `order_ids_waiting` (backing off), so that they do not fill the
        batch and hold up every other order."""
        query = (
            select(operations)
            .where(
                operations.c.state.in_([OperationState.PENDING.value, OperationState.STARTED.value])
            )
            .order_by(operations.c.created_at, operations.c.id)
            .limit(limit)
        )
        if order_ids_waiting:
            query = query.where(operations.c.order_id.not_in(sorted(order_ids_waiting)))
        return [_operation(row) for row in (await self.session.execute(query)).all()]

    async def has_open(self, order_id: str) -> bool:
        query = select(func.count()).where(
            operations.c.order_id == order_id,
            operations.c.state.in_([OperationState.PENDING.value, OperationState.STARTED.value]),
        )
        return bool((await self.session.execute(query)).scalar_one())

    async def save(self, operation: Operation, *, was: OperationState) -> None:
        """Store `operation`, if it is still in state `was` (two workers never both act)."""
        result = await self.session.execute(
            update(operations)
            .where(operations.c.id == operation.id, operations.c.state == was.value)
            .values(**_operation_columns(operation))
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"operation {operation.id} was changed by someone else")


class WaitingRefunds:
    """Refunds decided while their order's capture was at Stripe (`domain.WaitingRefund`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_order(self, order_id: str) -> list[WaitingRefund]:
        query = (
            select(refunds_waiting)
            .where(refunds_waiting.c.order_id == order_id)
            .order_by(refunds_waiting.c.requested_at, refunds_waiting.c.refund_key)
        )
        return [
            WaitingRefund(
                order_id=row.order_id,
                key=row.refund_key,
                amount_minor=row.amount_minor,
                reason=row.reason,
                requested_at=row.requested_at,
            )
            for row in (await self.session.execute(query)).all()
        ]

    async def add(self, request: WaitingRefund) -> None:
        await self.session.execute(
            refunds_waiting.insert().values(
                order_id=request.order_id,
                refund_key=request.key,
                amount_minor=request.amount_minor,
                reason=request.reason,
                requested_at=request.requested_at,
            )
        )

    async def made(self, order_id: str) -> None:
        """The capture landed and the waiting refunds were decided."""
        await self.session.execute(
            refunds_waiting.delete().where(refunds_waiting.c.order_id == order_id)
        )
