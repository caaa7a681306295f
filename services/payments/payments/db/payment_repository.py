"""Payments as rows: read, added once, saved under optimistic versioning."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payments.db.tables import payments
from payments.domain import Payment, PaymentState
from servicekit.messaging.db import insert_ignoring_duplicates
from servicekit.messaging.failures import ConcurrentUpdate

_PAYMENT_FIELDS = [field.name for field in dataclasses.fields(Payment)]


def _payment_columns(payment: Payment) -> dict[str, Any]:
    return {name: getattr(payment, name) for name in _PAYMENT_FIELDS} | {
        "state": payment.state.value
    }


def _payment(row: Any) -> Payment:
    values = {name: getattr(row, name) for name in _PAYMENT_FIELDS}
    return Payment(**values | {"state": PaymentState(row.state)})


class Payments:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_if_new(self, payment: Payment) -> bool:
        """Record a new payment; False if the order already has one."""
        statement = insert_ignoring_duplicates(self.session, payments).values(
            **_payment_columns(payment)
        )
        return bool((await self.session.execute(statement)).rowcount)

    async def get(self, order_id: str) -> Payment | None:
        row = (
            await self.session.execute(select(payments).where(payments.c.order_id == order_id))
        ).first()
        return _payment(row) if row else None

    async def by_payment_intent(self, payment_intent_id: str) -> Payment | None:
        query = select(payments).where(payments.c.payment_intent_id == payment_intent_id)
        row = (await self.session.execute(query)).first()
        return _payment(row) if row else None

    async def renewal_candidates(self, expiring_before: datetime, limit: int) -> list[Payment]:
        query = (
            select(payments)
            .where(
                payments.c.state == PaymentState.AUTHORIZED.value,
                payments.c.expires_at <= expiring_before,
                payments.c.ended.is_(False),
                payments.c.expiry_escalated.is_(False),
            )
            .order_by(payments.c.expires_at)
            .limit(limit)
        )
        return [_payment(row) for row in (await self.session.execute(query)).all()]

    async def with_payment_intents(self) -> list[Payment]:
        query = select(payments).where(payments.c.payment_intent_id.is_not(None))
        return [_payment(row) for row in (await self.session.execute(query)).all()]

    async def save(self, payment: Payment) -> Payment:
        saved_version = payment.version + 1
        values = _payment_columns(payment) | {"version": saved_version}
        result = await self.session.execute(
            update(payments)
            .where(payments.c.order_id == payment.order_id, payments.c.version == payment.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"payment for {payment.order_id} was changed by someone else")
        return replace(payment, version=saved_version)
