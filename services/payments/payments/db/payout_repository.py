"""Sellers' payout accounts, payouts and their reversals, and the ledger sums a payout run and
a seller's balance are read from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from payments import ledger
from payments.db.tables import (
    ledger_lines,
    payments,
    payout_accounts,
    payout_notices,
    payout_reversals,
    payout_runs,
    payouts,
)
from payments.domain.payouts import (
    AccountStatus,
    Payable,
    Payout,
    PayoutAccount,
    PayoutLine,
    PayoutStatus,
    Reversal,
    ReversalStatus,
    Reversible,
)
from servicekit.messaging.db import insert_ignoring_duplicates
from servicekit.messaging.failures import ConcurrentUpdate

_PAYABLE_PREFIX = ledger.seller_payable("")


def _account(row: Any) -> PayoutAccount:
    return PayoutAccount(
        seller_id=row.seller_id,
        account_id=row.account_id,
        country=row.country,
        currency=row.currency,
        status=AccountStatus(row.status),
        created_at=row.created_at,
        activated_at=row.activated_at,
        onboarding_url=row.onboarding_url,
    )


def _payout(row: Any) -> Payout:
    return Payout(
        id=row.id,
        seller_id=row.seller_id,
        account_id=row.account_id,
        currency=row.currency,
        amount_minor=row.amount_minor,
        status=PayoutStatus(row.status),
        lines=tuple(PayoutLine(o, a) for o, a in json.loads(row.lines)),
        created_at=row.created_at,
        paid_at=row.paid_at,
        transfer_id=row.transfer_id,
        failure=row.failure,
    )


def _payout_columns(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.id,
        "seller_id": payout.seller_id,
        "account_id": payout.account_id,
        "currency": payout.currency,
        "amount_minor": payout.amount_minor,
        "status": payout.status.value,
        "lines": json.dumps([[line.order_id, line.amount_minor] for line in payout.lines]),
        "created_at": payout.created_at,
        "paid_at": payout.paid_at,
        "transfer_id": payout.transfer_id,
        "failure": payout.failure,
    }


def _reversal(row: Any) -> Reversal:
    return Reversal(
        id=row.id,
        payout_id=row.payout_id,
        order_id=row.order_id,
        seller_id=row.seller_id,
        currency=row.currency,
        amount_minor=row.amount_minor,
        status=ReversalStatus(row.status),
        created_at=row.created_at,
        reversal_id=row.reversal_id,
        failure=row.failure,
    )


class PayoutAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, seller_id: str) -> PayoutAccount | None:
        query = select(payout_accounts).where(payout_accounts.c.seller_id == seller_id)
        row = (await self.session.execute(query)).first()
        return _account(row) if row else None

    async def by_account_id(self, account_id: str) -> PayoutAccount | None:
        query = select(payout_accounts).where(payout_accounts.c.account_id == account_id)
        row = (await self.session.execute(query)).first()
        return _account(row) if row else None

    async def of_sellers(self, seller_ids: Sequence[str]) -> dict[str, PayoutAccount]:
        if not seller_ids:
            return {}
        query = select(payout_accounts).where(payout_accounts.c.seller_id.in_(sorted(seller_ids)))
        return {row.seller_id: _account(row) for row in (await self.session.execute(query)).all()}

    async def put(self, account: PayoutAccount) -> None:
        values = {
            "seller_id": account.seller_id,
            "account_id": account.account_id,
            "country": account.country,
            "currency": account.currency,
            "status": account.status.value,
            "created_at": account.created_at,
            "activated_at": account.activated_at,
            "onboarding_url": account.onboarding_url,
        }
        inserted = await self.session.execute(
            insert_ignoring_duplicates(self.session, payout_accounts).values(**values)
        )
        if not inserted.rowcount:
            await self.session.execute(
                update(payout_accounts)
                .where(payout_accounts.c.seller_id == account.seller_id)
                .values(**values)
            )


class SellerPayouts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payout: Payout) -> None:
        await self.session.execute(payouts.insert().values(**_payout_columns(payout)))

    async def get(self, payout_id: str) -> Payout | None:
        row = (await self.session.execute(select(payouts).where(payouts.c.id == payout_id))).first()
        return _payout(row) if row else None

    async def pending(self, limit: int) -> list[Payout]:
        query = (
            select(payouts)
            .where(payouts.c.status == PayoutStatus.PENDING.value)
            .order_by(payouts.c.created_at, payouts.c.id)
            .limit(limit)
        )
        return [_payout(row) for row in (await self.session.execute(query)).all()]

    async def save(self, payout: Payout, *, was: PayoutStatus) -> None:
        result = await self.session.execute(
            update(payouts)
            .where(payouts.c.id == payout.id, payouts.c.status == was.value)
            .values(**_payout_columns(payout))
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"payout {payout.id} was changed by someone else")

    async def of_seller(
        self, seller_id: str, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Payout]:
        """Newest first; `after` is the (created_at, id) of the last one of the page before."""
        query = select(payouts).where(payouts.c.seller_id == seller_id)
        if after is not None:
            at, ident = after
            query = query.where(
                (payouts.c.created_at < at) | and_(payouts.c.created_at == at, payouts.c.id < ident)
            )
        query = query.order_by(payouts.c.created_at.desc(), payouts.c.id.desc()).limit(limit)
        return [_payout(row) for row in (await self.session.execute(query)).all()]

    async def with_ids(self, payout_ids: Sequence[str]) -> list[Payout]:
        if not payout_ids:
            return []
        query = select(payouts).where(payouts.c.id.in_(list(payout_ids)))
        found = {row.id: _payout(row) for row in (await self.session.execute(query)).all()}
        return [found[i] for i in payout_ids if i in found]

    async def reversible(self, order_ids: Sequence[str]) -> dict[str, list[Reversible]]:
        """For each of `order_ids`: what the paid payouts' transfers paid for it and has not
        been taken back (reversals pending or done count as taken)."""
        if not order_ids:
            return {}
        wanted = set(order_ids)
        paid = (
            await self.session.execute(
                select(payouts).where(
                    payouts.c.status.in_([PayoutStatus.PAID.value, PayoutStatus.REVERSED.value])
                )
            )
        ).all()
        taken_rows = (
            await self.session.execute(
                select(
                    payout_reversals.c.payout_id,
                    payout_reversals.c.order_id,
                    func.sum(payout_reversals.c.amount_minor),
                )
                .where(
                    payout_reversals.c.order_id.in_(sorted(wanted)),
                    payout_reversals.c.status != ReversalStatus.FAILED.value,
                )
                .group_by(payout_reversals.c.payout_id, payout_reversals.c.order_id)
            )
        ).all()
        taken = {(p, o): int(amount) for p, o, amount in taken_rows}
        found: dict[str, list[Reversible]] = {}
        for row in paid:
            payout = _payout(row)
            for line in payout.lines:
                if line.order_id not in wanted or line.amount_minor <= 0:
                    continue
                left = line.amount_minor - taken.get((payout.id, line.order_id), 0)
                if left > 0:
                    found.setdefault(line.order_id, []).append(
                        Reversible(
                            payout.id, line.order_id, left, payout.paid_at or payout.created_at
                        )
                    )
        return found


class PayoutReversals:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, reversal: Reversal) -> None:
        await self.session.execute(payout_reversals.insert().values(**_reversal_columns(reversal)))

    async def pending(self, limit: int) -> list[Reversal]:
        query = (
            select(payout_reversals)
            .where(payout_reversals.c.status == ReversalStatus.PENDING.value)
            .order_by(payout_reversals.c.created_at, payout_reversals.c.id)
            .limit(limit)
        )
        return [_reversal(row) for row in (await self.session.execute(query)).all()]

    async def of_payouts(self, payout_ids: Sequence[str]) -> list[Reversal]:
        if not payout_ids:
            return []
        query = (
            select(payout_reversals)
            .where(payout_reversals.c.payout_id.in_(list(payout_ids)))
            .order_by(payout_reversals.c.created_at, payout_reversals.c.id)
        )
        return [_reversal(row) for row in (await self.session.execute(query)).all()]

    async def save(self, reversal: Reversal, *, was: ReversalStatus) -> None:
        result = await self.session.execute(
            update(payout_reversals)
            .where(payout_reversals.c.id == reversal.id, payout_reversals.c.status == was.value)
            .values(**_reversal_columns(reversal))
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"reversal {reversal.id} was changed by someone else")


def _reversal_columns(reversal: Reversal) -> dict[str, Any]:
    return {
        "id": reversal.id,
        "payout_id": reversal.payout_id,
        "order_id": reversal.order_id,
        "seller_id": reversal.seller_id,
        "currency": reversal.currency,
        "amount_minor": reversal.amount_minor,
        "status": reversal.status.value,
        "created_at": reversal.created_at,
        "reversal_id": reversal.reversal_id,
        "failure": reversal.failure,
    }


class PayoutBooks:
    """The ledger's sums for payouts, the run's bookkeeping (who was told, when it ran)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_run(self) -> None:
        """One run at a time across replicas (until this transaction ends); SQLite has one
        writer and one process."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(18018)"))

    async def payables(self) -> list[Payable]:
        """Every seller's non-zero `seller_payable` balance, per order and currency."""
        total = func.sum(ledger_lines.c.amount_minor)
        query = (
            select(ledger_lines.c.account, ledger_lines.c.currency, ledger_lines.c.order_id, total)
            .where(ledger_lines.c.account.like(f"{_PAYABLE_PREFIX}%"))
            .group_by(ledger_lines.c.account, ledger_lines.c.currency, ledger_lines.c.order_id)
            .having(total != 0)
            .order_by(ledger_lines.c.account, ledger_lines.c.currency, ledger_lines.c.order_id)
        )
        return [
            Payable(account.removeprefix(_PAYABLE_PREFIX), currency, order_id, int(amount))
            for account, currency, order_id, amount in (await self.session.execute(query)).all()
        ]

    async def seller_sums(self, seller_id: str) -> tuple[dict[str, int], ...]:
        """(in escrow, available, paid out) per currency, summed from the ledger: escrow and
        payouts of the seller's orders, and their `seller_payable` account."""
        amount = func.sum(ledger_lines.c.amount_minor)
        of_orders = (
            select(ledger_lines.c.account, ledger_lines.c.currency, amount)
            .join(payments, payments.c.order_id == ledger_lines.c.order_id)
            .where(
                payments.c.seller_id == seller_id,
                ledger_lines.c.account.in_([ledger.ESCROW, ledger.PAYOUTS]),
            )
            .group_by(ledger_lines.c.account, ledger_lines.c.currency)
        )
        escrow: dict[str, int] = {}
        paid_out: dict[str, int] = {}
        for account, currency, total in (await self.session.execute(of_orders)).all():
            (escrow if account == ledger.ESCROW else paid_out)[currency] = int(total)
        payable_query = (
            select(ledger_lines.c.currency, amount)
            .where(ledger_lines.c.account == ledger.seller_payable(seller_id))
            .group_by(ledger_lines.c.currency)
        )
        payable = {
            currency: int(total)
            for currency, total in (await self.session.execute(payable_query)).all()
        }
        return escrow, payable, paid_out

    async def told(self, seller_ids: Sequence[str]) -> frozenset[str]:
        return frozenset(await self.told_at(seller_ids))

    async def told_at(self, seller_ids: Sequence[str]) -> dict[str, datetime]:
        """When each of these sellers was first told that money waits for their account."""
        if not seller_ids:
            return {}
        query = select(payout_notices.c.seller_id, payout_notices.c.told_at).where(
            payout_notices.c.seller_id.in_(sorted(seller_ids))
        )
        return {seller: at for seller, at in (await self.session.execute(query)).all()}

    async def tell(self, seller_id: str, at: datetime) -> None:
        await self.session.execute(
            insert_ignoring_duplicates(self.session, payout_notices).values(
                seller_id=seller_id, told_at=at
            )
        )

    async def forget(self, seller_id: str) -> None:
        """The seller was paid: money that waits for their account again is a new notice."""
        await self.session.execute(
            payout_notices.delete().where(payout_notices.c.seller_id == seller_id)
        )

    async def last_run(self) -> datetime | None:
        query = select(payout_runs.c.at).order_by(payout_runs.c.at.desc()).limit(1)
        value: datetime | None = (await self.session.execute(query)).scalar_one_or_none()
        return value

    async def record_run(self, run_id: str, at: datetime, count: int) -> None:
        await self.session.execute(payout_runs.insert().values(id=run_id, at=at, payouts=count))
