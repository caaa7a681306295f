"""The card-operation worker: runs the operations handlers recorded, outside any consumer
batch, so a slow or failing Stripe never holds a batch open, and records each answer with its
ledger entries and events in one transaction (`domain.record_outcome`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

import structlog
from prometheus_client import Counter

from payments import domain
from payments.cards import TransientCardError, refused_for_good
from payments.context import PaymentsContext
from payments.domain import CardOutcome, Operation, OperationKind, OperationState, Payment
from payments.store import has_work_queued, store
from servicekit.messaging.context import bind_correlation_id
from servicekit.messaging.exclusive import ExclusiveLock

log = structlog.get_logger(__name__)

OPERATIONS_SET_ASIDE = Counter(
    "payments_card_operations_set_aside_total",
    "Card operations that failed for good and were set aside with their reason (the "
    "operation is `failed`; see GET /v1/orders/{id}/payment)",
    ["kind"],
)

# What a refusal leaves behind, for operators: (log level, message).
_REFUSALS = {
    OperationKind.VOID: ("error", "void refused; the hold lapses on its own"),
    OperationKind.REFUND: ("error", "refund refused by the card processor"),
    OperationKind.TRANSFER: ("error", "payout refused; the amount stays payable"),
    OperationKind.RELEASE_HOLD: ("warning", "replaced hold not released; it lapses on its own"),
}

MAX_BACKOFF = timedelta(seconds=60)


class CardOperationWorker:
    """Runs waiting card operations, one per order at a time, oldest first. Operations that
    hit a transient error back off on `ticks`, the injected clock of elapsed seconds (not the
    business clock: a development stack's manual clock stands still, and an outage must still
    be retried). The backoff is kept in memory (`backoff`: operation id -> (failures so far,
    tick of the next try)), so after a restart every waiting operation is tried at once."""

    def __init__(
        self,
        ctx: PaymentsContext,
        *,
        concurrency: int = 16,
        lock: ExclusiveLock | None = None,
        attempts_before_set_aside: int = 8,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.ticks = ticks
        self.concurrency = concurrency
        self.lock = lock
        # A failure that is neither Stripe's refusal nor an outage (a bug, an answer we cannot
        # read) is tried this many times, then set aside so that it cannot block the queue.
        self.attempts_before_set_aside = attempts_before_set_aside
        self.backoff: dict[str, tuple[int, float]] = {}
        self.backoff_orders: dict[str, str] = {}  # operation id -> order id

    async def run_once(self) -> bool:
        """One pass; True if there may be more waiting."""
        ctx = self.ctx
        if self.lock is not None and not await self.lock.held():
            return False
        now = self.ticks()
        backing_off = frozenset(
            self.backoff_orders[op_id]
            for op_id, (_, next_try) in self.backoff.items()
            if next_try > now and op_id in self.backoff_orders
        )
        async with ctx.db.unit_of_work() as uow:
            waiting = await uow.operations.open(ctx.batch_size, order_ids_waiting=backing_off)
            due = [
                op for op in domain.runnable(waiting) if self.backoff.get(op.id, (0, 0.0))[1] <= now
            ]
            claimed: list[tuple[Operation, bool, Payment]] = []
            for pending in due:
                payment = await uow.payments.get(pending.order_id)
                assert payment is not None
                operation = domain.aimed_at_current_hold(pending, payment)
                resumed = operation.state is OperationState.STARTED
                if not resumed:
                    await uow.operations.save(
                        operation.started(ctx.clock.now()), was=OperationState.PENDING
                    )
                claimed.append((operation.started(ctx.clock.now()), resumed, payment))
            await uow.commit()
        if not claimed:
            return False
        limit = asyncio.Semaphore(self.concurrency)

        async def run(operation: Operation, resumed: bool, payment: Payment) -> None:
            async with limit:
                await self._perform(operation, resumed, payment)

        await asyncio.gather(*(run(*item) for item in claimed))
        return len(waiting) == ctx.batch_size

    async def _perform(self, operation: Operation, resumed: bool, payment: Payment) -> None:
        bind_correlation_id(payment.correlation_id)
        try:
            outcome = await self._ask(operation, resumed, payment)
        except TransientCardError as error:
            # Stripe unreachable (or our key refused): every operation waits alike, so it is
            # tried again later, for as long as it takes; other orders go on meanwhile.
            self._back_off(operation, error)
            return
        except Exception as error:
            if not refused_for_good(error) and (
                self._back_off(operation, error) < self.attempts_before_set_aside
            ):
                return
            outcome = _set_aside(operation, error)
        try:
            await self.record(operation, outcome)
        except Exception as error:
            # Recording the answer fails (a bug): tried again (the answer is looked up at
            # Stripe), then the operation alone is set aside, so the queue goes on.
            if self._back_off(operation, error) < self.attempts_before_set_aside:
                return
            await self._set_aside_unrecorded(operation, _set_aside(operation, error))
        self.backoff.pop(operation.id, None)
        self.backoff_orders.pop(operation.id, None)

    def _back_off(self, operation: Operation, error: Exception) -> int:
        """Try `operation` again later; answers how many times it has failed so far."""
        failures = self.backoff.get(operation.id, (0, 0.0))[0] + 1
        delay = min(MAX_BACKOFF.total_seconds(), 0.5 * 2**failures)
        self.backoff[operation.id] = (failures, self.ticks() + delay)
        self.backoff_orders[operation.id] = operation.order_id
        log.warning(
            "card operation failed; will retry",
            operation=operation.id,
            error=repr(error),
            failures=failures,
            transient=isinstance(error, TransientCardError),
        )
        return failures

    async def _set_aside_unrecorded(self, operation: Operation, outcome: CardOutcome) -> None:
        async with self.ctx.db.unit_of_work() as uow:
            finished = operation.finished(outcome, self.ctx.clock.now())
            await uow.operations.save(finished, was=OperationState.STARTED)
            await uow.commit()

    async def _ask(self, operation: Operation, resumed: bool, payment: Payment) -> CardOutcome:
        ctx = self.ctx
        if operation.kind is OperationKind.TRANSFER:
            # Per-order transfers were replaced by payout runs (`payout_run.py`).
            return CardOutcome(
                succeeded=False, reason="replaced by payout runs; the amount stays payable"
            )
        if operation.kind in (
            OperationKind.REAUTHORIZE,
            OperationKind.REPLACE_CARD,
        ) and domain.renewal_obsolete(payment, operation.kind):
            return CardOutcome(
                succeeded=False, reason=f"not needed: the payment is {payment.state}"
            )
        if operation.amount_minor == 0:
            # Credit paid for everything: there is nothing on the card to act on.
            return CardOutcome(succeeded=True, payment_intent_id=operation.payment_intent_id or "")
        found = await ctx.cards.look_up(operation) if resumed else None
        if found is not None:
            log.info("resumed operation had already happened", operation=operation.id)
            return found
        return await ctx.cards.perform(
            operation, payment.payment_method, customer_id=payment.customer_id
        )

    async def record(self, operation: Operation, outcome: CardOutcome) -> None:
        """Record what Stripe answered, with its ledger entries and events, in one
        transaction."""
        ctx = self.ctx
        async with ctx.db.unit_of_work() as uow:
            payment = await uow.payments.get(operation.order_id)
            assert payment is not None
            uow.correlation_id = payment.correlation_id
            now = ctx.clock.now()
            finished = operation.finished(outcome, now)
            await uow.operations.save(finished, was=OperationState.STARTED)
            books = domain.OrderBooks(
                posted=await uow.ledger.posted(payment.order_id),
                waiting_refunds=await uow.waiting_refunds.of_order(payment.order_id),
            )
            answer = domain.Answer(payment, finished, outcome, now, ctx.terms, books)
            decision = domain.record_outcome(answer)
            if not outcome.succeeded and operation.kind in _REFUSALS:
                level, message = _REFUSALS[operation.kind]
                getattr(log, level)(
                    message,
                    operation=operation.id,
                    order_id=operation.order_id,
                    reason=outcome.reason,
                )
            await store(uow, payment, decision)
            await uow.commit()
        if has_work_queued(decision):
            ctx.wake_worker()


def _set_aside(operation: Operation, error: Exception) -> CardOutcome:
    """A Stripe operation that fails for good becomes a refusal with its reason: recorded as
    `failed` (what follows a refusal follows: a capture that failed goes to support, a
    refund stays owed in `refunds_pending`), counted, logged, and never tried again."""
    reason = f"set aside: {type(error).__name__}: {error}"[:500]
    OPERATIONS_SET_ASIDE.labels(operation.kind.value).inc()
    log.error(
        "card operation failed for good; set aside",
        operation=operation.id,
        order_id=operation.order_id,
        kind=operation.kind.value,
        reason=reason,
    )
    return CardOutcome(
        succeeded=False, payment_intent_id=operation.payment_intent_id, reason=reason
    )
