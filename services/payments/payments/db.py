"""Payments' tables and repositories: the only module that speaks SQL."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from payments.domain import (
    Operation,
    OperationKind,
    OperationState,
    Payment,
    PaymentState,
    WaitingRefund,
)
from payments.ledger import GOODWILL, Entry, Line
from servicekit.db import NAMING_CONVENTION, UtcDateTime, insert_ignoring_duplicates, insert_rows
from servicekit.failures import ConcurrentUpdate

metadata = MetaData(naming_convention=NAMING_CONVENTION)

payments = Table(
    "payments",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("payment_method", String(100), nullable=False),
    Column("state", String(30), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("credit_applied_minor", BigInteger, nullable=False),
    Column("payment_intent_id", String(100), nullable=True, index=True),
    Column("authorized_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True, index=True),
    Column("failure_reason", String(500), nullable=True),
    Column("decline_code", String(100), nullable=True),
    Column("captured_minor", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("refunded_to_card_minor", BigInteger, nullable=False),
    Column("charged_back_minor", BigInteger, nullable=False),
    Column("released_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("escrow_at_release_minor", BigInteger, nullable=False),
    Column("refunded_at_release_minor", BigInteger, nullable=False),
    Column("ended", Boolean, nullable=False),
    Column("release_due", Boolean, nullable=False),
    Column("reauthorizations", Integer, nullable=False),
    Column("expiry_escalated", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)

# Every call to Stripe, recorded before it is made: the id is the idempotency key.
operations = Table(
    "operations",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("payment_intent_id", String(100), nullable=True),
    Column("stripe_id", String(100), nullable=True),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("failure", String(500), nullable=True),
)

ledger_lines = Table(
    "ledger_lines",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("entry_id", String(160), nullable=False, index=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("account", String(100), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("reason", String(500), nullable=False),
)

credit_balances = Table(
    "credit_balances",
    metadata,
    Column("buyer_id", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("balance_minor", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

disputes = Table(
    "disputes",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(100), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    # Why a dispute that does not fit the charge was refused (status "refused")
    Column("refusal", String(500), nullable=True),
)

refunds_waiting = Table(
    "refunds_waiting",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("refund_key", String(100), primary_key=True),
    Column("amount_minor", BigInteger, nullable=True),
    Column("reason", String(500), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
)

_PAYMENT_FIELDS = [field.name for field in dataclasses.fields(Payment)]
_OPERATION_FIELDS = [field.name for field in dataclasses.fields(Operation)]


def _payment_columns(payment: Payment) -> dict[str, Any]:
    return {name: getattr(payment, name) for name in _PAYMENT_FIELDS} | {
        "state": payment.state.value
    }


def _payment(row: Any) -> Payment:
    values = {name: getattr(row, name) for name in _PAYMENT_FIELDS}
    return Payment(**values | {"state": PaymentState(row.state)})


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


class Payments:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_if_new(self, payment: Payment) -> bool:
        """Record a new payment; False if the order already has one."""
        statement = insert_ignoring_duplicates(self.session.bind, payments).values(  # type: ignore[arg-type]
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


class Operations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_if_new(self, operation: Operation) -> bool:
        """Record an operation to run; False if one with this id (key) was recorded before."""
        statement = insert_ignoring_duplicates(self.session.bind, operations).values(  # type: ignore[arg-type]
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


class Ledger:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def write(self, entries: list[Entry] | tuple[Entry, ...]) -> None:
        rows = [
            {
                "entry_id": entry.entry_id,
                "order_id": entry.order_id,
                "account": line.account,
                "amount_minor": line.amount_minor,
                "currency": entry.currency,
                "at": entry.at,
                "reason": entry.reason,
            }
            for entry in entries
            for line in entry.lines
        ]
        if rows:
            await insert_rows(self.session, ledger_lines, rows)

    async def of_order(self, order_id: str) -> list[Any]:
        query = (
            select(ledger_lines)
            .where(ledger_lines.c.order_id == order_id)
            .order_by(ledger_lines.c.id)
        )
        return list((await self.session.execute(query)).all())

    async def of_account(self, account: str) -> list[Any]:
        query = (
            select(ledger_lines)
            .where(ledger_lines.c.account == account)
            .order_by(ledger_lines.c.id.desc())
        )
        return list((await self.session.execute(query)).all())

    async def credited(self, order_id: str) -> int:
        """Goodwill credit issued on the order so far."""
        query = select(func.coalesce(func.sum(ledger_lines.c.amount_minor), 0)).where(
            ledger_lines.c.order_id == order_id, ledger_lines.c.account == GOODWILL
        )
        return -int((await self.session.execute(query)).scalar_one())

    async def order_lines(self, order_id: str) -> list[Line]:
        return [Line(row.account, row.amount_minor) for row in await self.of_order(order_id)]

    async def unbalanced_orders(self) -> list[tuple[str, str, int]]:
        """(order, currency, sum) for every order whose lines do not sum to zero."""
        total = func.sum(ledger_lines.c.amount_minor)
        query = (
            select(ledger_lines.c.order_id, ledger_lines.c.currency, total)
            .group_by(ledger_lines.c.order_id, ledger_lines.c.currency)
            .having(total != 0)
        )
        return [tuple(row) for row in (await self.session.execute(query)).all()]  # type: ignore[misc]


class CreditBalances:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def balance(self, buyer_id: str, currency: str) -> tuple[int, int]:
        """(balance, version); (0, 0) for a buyer who never had credit."""
        query = select(credit_balances).where(
            credit_balances.c.buyer_id == buyer_id, credit_balances.c.currency == currency
        )
        row = (await self.session.execute(query)).first()
        return (row.balance_minor, row.version) if row else (0, 0)

    async def balances(self, buyer_id: str) -> list[Any]:
        query = (
            select(credit_balances)
            .where(credit_balances.c.buyer_id == buyer_id)
            .order_by(credit_balances.c.currency)
        )
        return list((await self.session.execute(query)).all())

    async def change(self, buyer_id: str, currency: str, delta_minor: int) -> int:
        """Add `delta_minor` (negative to spend); answer the new balance. Optimistic: a
        concurrent change to the same balance retries the whole batch."""
        if delta_minor == 0:
            return (await self.balance(buyer_id, currency))[0]
        balance, version = await self.balance(buyer_id, currency)
        if version == 0:
            inserted = await self.session.execute(
                insert_ignoring_duplicates(self.session.bind, credit_balances).values(  # type: ignore[arg-type]
                    buyer_id=buyer_id, currency=currency, balance_minor=delta_minor, version=1
                )
            )
            if inserted.rowcount != 1:
                raise ConcurrentUpdate(f"credit of {buyer_id} was changed by someone else")
            return delta_minor
        result = await self.session.execute(
            update(credit_balances)
            .where(
                credit_balances.c.buyer_id == buyer_id,
                credit_balances.c.currency == currency,
                credit_balances.c.version == version,
            )
            .values(balance_minor=balance + delta_minor, version=version + 1)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"credit of {buyer_id} was changed by someone else")
        return balance + delta_minor


class Webhooks:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, event_id: str, event_type: str, created: int, now: datetime) -> bool:
        """Record a Stripe event; False if it was received before (a replay)."""
        statement = insert_ignoring_duplicates(self.session.bind, webhook_events).values(  # type: ignore[arg-type]
            id=event_id, type=event_type, created=created, received_at=now
        )
        return bool((await self.session.execute(statement)).rowcount)


class Disputes:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, dispute_id: str) -> Any | None:
        query = select(disputes).where(disputes.c.id == dispute_id)
        return (await self.session.execute(query)).first()

    async def of_order(self, order_id: str) -> list[Any]:
        query = (
            select(disputes).where(disputes.c.order_id == order_id).order_by(disputes.c.opened_at)
        )
        return list((await self.session.execute(query)).all())

    async def put(self, **values: Any) -> None:
        exists = await self.get(values["id"])
        if exists is None:
            await self.session.execute(disputes.insert().values(**values))
        else:
            await self.session.execute(
                update(disputes).where(disputes.c.id == values["id"]).values(**values)
            )


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
