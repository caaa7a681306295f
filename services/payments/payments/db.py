"""Payments' tables and repository: the only module that speaks SQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Money
from payments.domain import Payment, PaymentState
from servicekit.db import NAMING_CONVENTION, UtcDateTime, insert_ignoring_duplicates
from servicekit.failures import ConcurrentUpdate

metadata = MetaData(naming_convention=NAMING_CONVENTION)

payments = Table(
    "payments",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method", String(100), nullable=False),
    Column("state", String(30), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("payment_intent_id", String(100), nullable=True),
    Column("authorized_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("failure_reason", String(500), nullable=True),
    Column("decline_code", String(100), nullable=True),
    Column("authorize_started_at", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
)


def _columns(payment: Payment) -> dict[str, Any]:
    return {
        "order_id": payment.order_id,
        "buyer_id": payment.buyer_id,
        "seller_id": payment.seller_id,
        "amount_minor": payment.amount.amount_minor,
        "currency": payment.amount.currency,
        "payment_method": payment.payment_method,
        "state": payment.state.value,
        "created_at": payment.created_at,
        "correlation_id": payment.correlation_id,
        "payment_intent_id": payment.payment_intent_id,
        "authorized_at": payment.authorized_at,
        "expires_at": payment.expires_at,
        "failure_reason": payment.failure_reason,
        "decline_code": payment.decline_code,
        "authorize_started_at": payment.authorize_started_at,
        "version": payment.version,
    }


def _payment(row: Any) -> Payment:
    return Payment(
        order_id=row.order_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        amount=Money(amount_minor=row.amount_minor, currency=row.currency),
        payment_method=row.payment_method,
        state=PaymentState(row.state),
        created_at=row.created_at,
        correlation_id=row.correlation_id,
        payment_intent_id=row.payment_intent_id,
        authorized_at=row.authorized_at,
        expires_at=row.expires_at,
        failure_reason=row.failure_reason,
        decline_code=row.decline_code,
        authorize_started_at=row.authorize_started_at,
        version=row.version,
    )


class Payments:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_if_new(self, payment: Payment) -> bool:
        """Record a new payment; False if the order already has one."""
        statement = insert_ignoring_duplicates(self.session.bind, payments).values(  # type: ignore[arg-type]
            **_columns(payment)
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)

    async def get(self, order_id: str) -> Payment | None:
        row = (
            await self.session.execute(select(payments).where(payments.c.order_id == order_id))
        ).first()
        return _payment(row) if row else None

    async def awaiting_authorization(self, limit: int) -> list[Payment]:
        query = (
            select(payments)
            .where(payments.c.state == PaymentState.AUTHORIZING.value)
            .order_by(payments.c.created_at)
            .limit(limit)
        )
        return [_payment(row) for row in (await self.session.execute(query)).all()]

    async def save(self, payment: Payment) -> Payment:
        saved_version = payment.version + 1
        values = _columns(payment) | {"version": saved_version}
        result = await self.session.execute(
            update(payments)
            .where(payments.c.order_id == payment.order_id, payments.c.version == payment.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"payment for {payment.order_id} was changed by someone else")
        return replace(payment, version=saved_version)
