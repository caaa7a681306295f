"""The payout run and the worker that makes its transfers and reversals.

A run (the scheduled timer job, or `POST /v1/ops/payouts/run`) plans from the ledger
(`domain.payouts.plan_run`) and, in one transaction, writes each payout and reversal
`pending` with its ledger entries. Only then is Stripe asked, outside that transaction: for a
payout, first whether a transfer with its `transfer_group` exists (a crash after Stripe acted
and before we recorded it), then a transfer with the payout's id as idempotency key. Stripe's
refusal is final (`failed`, the money back on `seller_payable`, `payment.payout_failed`); an
outage is retried with backoff, and an unexpected failure is set aside after a few tries the
way card operations are.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import structlog

from payments.cards import TransientCardError
from payments.context import PaymentsContext
from payments.domain import payouts as rules
from payments.domain.payouts import Payout, PayoutStatus, Reversal, ReversalStatus
from payments.ledger import Entry
from payments.payouts import PayoutRefused
from servicekit.messaging import failpoints

log = structlog.get_logger(__name__)

MAX_BACKOFF_SECONDS = 60.0


def _new_id() -> str:
    return uuid.uuid4().hex[:20]


class PayoutRunner:
    def __init__(
        self,
        ctx: PaymentsContext,
        *,
        ticks: Callable[[], float] = time.monotonic,
        attempts_before_set_aside: int = 8,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        self.ctx = ctx
        self.ticks = ticks
        self.attempts_before_set_aside = attempts_before_set_aside
        self.new_id = new_id
        self.backoff: dict[str, tuple[int, float]] = {}  # payout/reversal id -> (failures, next)
        self._working = asyncio.Lock()  # the run's own pass and the worker's never overlap

    # --- the run ------------------------------------------------------------------------

    async def run(self) -> list[Payout]:
        """Run now: plan and book, then make the transfers; answers the run's payouts as they
        stand (paid, or still pending when Stripe could not be reached)."""
        payout_ids = await self.plan(self.ctx.clock.now())
        await self.work_once()
        async with self.ctx.db.unit_of_work() as uow:
            return await uow.payouts.with_ids(payout_ids)

    async def when_due(self, now: datetime) -> int:
        """The timer job: a run once `payout_interval` has passed since the last one."""
        async with self.ctx.db.unit_of_work() as uow:
            last = await uow.payout_books.last_run()
        if last is not None and now - last < self.ctx.payout_interval:
            return 0
        return len(await self.plan(now)) or 1  # a run happened: counted as one deadline

    async def plan(self, now: datetime) -> list[str]:
        ctx = self.ctx
        async with ctx.db.unit_of_work() as uow:
            books = uow.payout_books
            await books.lock_run()
            payables = await books.payables()
            sellers = sorted({p.seller_id for p in payables})
            owed_back = [p.order_id for p in payables if p.amount_minor < 0]
            told_at = await books.told_at(sellers)
            plan = rules.plan_run(
                payables,
                await uow.payout_accounts.of_sellers(sellers),
                await uow.payouts.reversible(owed_back),
                frozenset(told_at),
                ctx.payout_policy,
                now,
                self.new_id,
                told_at=told_at,
                last_run=await books.last_run(),
            )
            for payout in plan.payouts:
                await uow.payouts.add(payout)
                await books.forget(payout.seller_id)  # paid: no more reminders
            for reversal in plan.reversals:
                await uow.payout_reversals.add(reversal)
            await uow.ledger.write(plan.entries)
            for needed in plan.needs_account:
                await books.tell(needed.seller_id, now)
                uow.emit(needed)
            for reminder in plan.chased:
                uow.emit(reminder)
            await books.record_run(f"run_{self.new_id()}", now, len(plan.payouts))
            await uow.commit()
        for seller_id, currency, why in plan.kept:
            log.info("seller not paid this run", seller_id=seller_id, currency=currency, why=why)
        if plan.payouts or plan.reversals:
            log.info("payout run booked", payouts=len(plan.payouts), reversals=len(plan.reversals))
            ctx.wake_payouts()
        return [payout.id for payout in plan.payouts]

    # --- the worker ---------------------------------------------------------------------

    async def work_once(self) -> bool:
        """Make the pending transfers and reversals; True if there may be more."""
        async with self._working:
            return await self._work_once()

    async def _work_once(self) -> bool:
        ctx = self.ctx
        now = self.ticks()
        async with ctx.db.unit_of_work() as uow:
            payouts = await uow.payouts.pending(ctx.batch_size)
            reversals = await uow.payout_reversals.pending(ctx.batch_size)
        for payout in payouts:
            if self._due(payout.id, now):
                await self._pay(payout)
        for reversal in reversals:
            if self._due(reversal.id, now):
                await self._reverse(reversal)
        return len(payouts) == ctx.batch_size or len(reversals) == ctx.batch_size

    def _due(self, ident: str, now: float) -> bool:
        return self.backoff.get(ident, (0, 0.0))[1] <= now

    def _failed(self, ident: str, error: Exception) -> bool:
        """Back off; True when it has failed often enough to be set aside."""
        if isinstance(error, TransientCardError):
            failures = self.backoff.get(ident, (0, 0.0))[0] + 1
            set_aside = False
        else:
            failures = self.backoff.get(ident, (0, 0.0))[0] + 1
            set_aside = failures >= self.attempts_before_set_aside
        delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures)
        self.backoff[ident] = (failures, self.ticks() + delay)
        log.warning("payout step failed; will retry", id=ident, error=repr(error))
        return set_aside

    async def _pay(self, payout: Payout) -> None:
        connect = self.ctx.connect
        try:
            transfer_id = await connect.find_transfer(payout)
            if transfer_id is None:
                transfer_id = await connect.transfer(payout)
                # The reliability suite kills the process here: transferred, not recorded.
                await failpoints.reached("payouts.after_transfer")
            else:
                log.info("payout had been transferred already", payout_id=payout.id)
            outcome = rules.payout_paid(payout, transfer_id, self.ctx.clock.now())
        except PayoutRefused as error:
            outcome = rules.payout_failed(payout, str(error), self.ctx.clock.now())
        except Exception as error:
            if not self._failed(payout.id, error):
                return
            reason = f"set aside: {type(error).__name__}: {error}"
            outcome = rules.payout_failed(payout, reason, self.ctx.clock.now())
        async with self.ctx.db.unit_of_work() as uow:
            await uow.payouts.save(outcome.payout, was=PayoutStatus.PENDING)
            await uow.ledger.write(outcome.entries)
            uow.emit(outcome.event)
            await uow.commit()
        self.backoff.pop(payout.id, None)
        if outcome.payout.status is PayoutStatus.FAILED:
            log.error(
                "payout refused; the amount stays payable",
                payout_id=payout.id,
                reason=outcome.payout.failure,
            )

    async def _reverse(self, reversal: Reversal) -> None:
        ctx = self.ctx
        async with ctx.db.unit_of_work() as uow:
            payout = await uow.payouts.get(reversal.payout_id)
        assert payout is not None and payout.transfer_id is not None
        entries: tuple[Entry, ...] = ()
        try:
            found = await ctx.connect.find_reversal(reversal, payout.transfer_id)
            reversal_id = found or await ctx.connect.reverse(reversal, payout.transfer_id)
            after = rules.reversal_done(reversal, reversal_id)
        except PayoutRefused as error:
            after, undo = rules.reversal_failed(reversal, str(error), ctx.clock.now())
            entries = (undo,)
        except Exception as error:
            if not self._failed(reversal.id, error):
                return
            after, undo = rules.reversal_failed(
                reversal, f"set aside: {type(error).__name__}: {error}", ctx.clock.now()
            )
            entries = (undo,)
        async with ctx.db.unit_of_work() as uow:
            await uow.payout_reversals.save(after, was=ReversalStatus.PENDING)
            await uow.ledger.write(entries)
            if after.status is ReversalStatus.DONE:
                done = [
                    r
                    for r in await uow.payout_reversals.of_payouts([payout.id])
                    if r.status is ReversalStatus.DONE or r.id == after.id
                ]
                if sum(r.amount_minor for r in done) >= payout.amount_minor:
                    current = await uow.payouts.get(payout.id)
                    if current is not None and current.status is PayoutStatus.PAID:
                        await uow.payouts.save(
                            rules.payout_reversed(current), was=PayoutStatus.PAID
                        )
            await uow.commit()
        self.backoff.pop(reversal.id, None)
        log.info(
            "claw-back by transfer reversal",
            reversal=reversal.id,
            status=after.status.value,
            failure=after.failure,
        )
