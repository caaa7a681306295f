"""The ledger's lines and the buyers' spendable credit balances kept in step with them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payments.db.tables import credit_balances, ledger_lines
from payments.ledger import Entry, Line, PostedLine
from servicekit.messaging.db import insert_ignoring_duplicates, insert_rows
from servicekit.messaging.failures import ConcurrentUpdate


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

    async def posted(self, order_id: str) -> list[PostedLine]:
        return [
            PostedLine(row.entry_id, row.account, row.amount_minor)
            for row in await self.of_order(order_id)
        ]

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
                insert_ignoring_duplicates(self.session, credit_balances).values(
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
