"""Payments' use cases.

Event handlers only write to the database: they decide (in `domain`) and record the card
operations to run and the ledger entries. The operation worker (`run_operations`) calls
Stripe outside any consumer batch, so a slow or failing Stripe never holds a batch open, and
records each answer with its ledger entries and events in one transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from prometheus_client import Counter

from contracts.orders import (
    OrderCancelled,
    OrderCompleted,
    OrderDeclined,
    OrderPlaced,
    OrderReturned,
    OrderSellerBackedOut,
    OrderShipped,
)
from contracts.payments import (
    CreditIssued,
    PaymentAuthorizationExpiring,
    PaymentAuthorizationFailed,
    PaymentAuthorizationRenewed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCaptureFailed,
    PaymentRefunded,
    PaymentReleased,
    PaymentVoided,
)
from contracts.support import TicketResolved
from payments import domain, ledger
from payments.cards import CardProcessor, TransientCardError, refused_for_good
from payments.db import CreditBalances, Ledger, Operations, Payments, WaitingRefunds
from payments.domain import (
    CardOutcome,
    Decision,
    Operation,
    OperationKind,
    OperationState,
    Payment,
    PaymentState,
)
from payments.payouts import Payouts
from servicekit.clock import Clock
from servicekit.context import bind_correlation_id
from servicekit.events import EventRouter, Received
from servicekit.exclusive import ExclusiveLock
from servicekit.uow import Database, UnitOfWork

log = structlog.get_logger(__name__)

OPERATIONS_SET_ASIDE = Counter(
    "payments_card_operations_set_aside_total",
    "Card operations that failed for good and were set aside with their reason (the "
    "operation is `failed`; see GET /v1/orders/{id}/payment)",
    ["kind"],
)


@dataclass
class PaymentsContext:
    db: Database
    clock: Clock
    cards: CardProcessor
    payouts: Payouts
    authorization_hold: timedelta
    renew_before: timedelta = timedelta(days=1)
    fee_bps: int = 500
    credit_limit_bps: int = 10_000
    concurrency: int = 16
    batch_size: int = 50
    wake_worker: Callable[[], None] = lambda: None
    # Operations that hit a transient error: (failures so far, monotonic time of the next
    # try). Kept in memory: after a restart every waiting operation is tried at once.
    backoff: dict[str, tuple[int, float]] = field(default_factory=dict)
    backoff_orders: dict[str, str] = field(default_factory=dict)  # operation id -> order id
    # A failure that is neither Stripe's refusal nor an outage (a bug, an answer we cannot
    # read) is tried this many times, then set aside so that it cannot block the queue.
    attempts_before_set_aside: int = 8
    lock: ExclusiveLock | None = None


async def apply(uow: UnitOfWork, decision: Decision, *, new: bool = False) -> Payment | None:
    """Store what a decision says: the payment, its operations, its ledger entries and the
    credit balances they move. None when `new` and the payment existed already (a replay)."""
    payments = Payments(uow.session)
    if new:
        if not await payments.add_if_new(decision.payment):
            return None
        saved = decision.payment
    else:
        saved = await payments.save(decision.payment)
    operations = Operations(uow.session)
    for operation in decision.operations:
        if operation.state is OperationState.SKIPPED:
            await operations.save(operation, was=OperationState.PENDING)
        else:
            await operations.add_if_new(operation)
    await Ledger(uow.session).write(decision.entries)
    await _move_credit(uow, decision.entries)
    return saved


async def _move_credit(uow: UnitOfWork, entries: tuple[ledger.Entry, ...]) -> dict[str, int]:
    """Keep each buyer's spendable balance in step with the ledger's credit lines."""
    balances: dict[str, int] = {}
    prefix = ledger.buyer_credit("")
    for entry in entries:
        for line in entry.lines:
            if line.account.startswith(prefix):
                buyer_id = line.account.removeprefix(prefix)
                balances[buyer_id] = await CreditBalances(uow.session).change(
                    buyer_id, entry.currency, line.amount_minor
                )
    return balances


def _queued(ctx: PaymentsContext, decision: Decision) -> None:
    if any(op.state is OperationState.PENDING for op in decision.operations):
        ctx.wake_worker()


# --- events from orders -------------------------------------------------------------------


async def on_order_placed(
    ctx: PaymentsContext, received: Received[OrderPlaced], uow: UnitOfWork
) -> None:
    """Spend the buyer's credit first and queue the card authorization for the rest."""
    event = received.event
    credit, _ = await CreditBalances(uow.session).balance(event.buyer_id, event.total.currency)
    payment = Payment(
        order_id=event.order_id,
        buyer_id=event.buyer_id,
        seller_id=event.seller_id,
        currency=event.total.currency,
        total_minor=event.total.amount_minor,
        payment_method=event.payment_method,
        state=PaymentState.AUTHORIZING,
        created_at=ctx.clock.now(),
        correlation_id=received.envelope.correlation_id,
    )
    decision = domain.place(payment, credit, ctx.clock.now())
    if await apply(uow, decision, new=True) is not None:
        _queued(ctx, decision)


async def _change(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    order_id: str,
    decide: Callable[[Payment, datetime], Decision],
) -> Payment | None:
    payment = await Payments(uow.session).get(order_id)
    if payment is None:
        log.warning("no payment for this order; ignored", order_id=order_id)
        return None
    decision = decide(payment, ctx.clock.now())
    if decision.payment == payment and not decision.operations and not decision.entries:
        return payment
    saved = await apply(uow, decision)
    _queued(ctx, decision)
    if (
        saved is not None
        and saved.state is PaymentState.RELEASED
        and payment.state is not saved.state
    ):
        await _released(ctx, uow, saved)
    return saved


async def on_order_ended(ctx: PaymentsContext, received: Received[Any], uow: UnitOfWork) -> None:
    """Cancelled, declined, or the seller backed out: void whatever the card holds."""
    await _void(ctx, uow, received.event.order_id, domain.end_before_capture)


async def _void(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    order_id: str,
    decide: Callable[[Payment, Operation | None, datetime], Decision],
    reason: str = domain.ORDER_ENDED,
) -> None:
    authorization = await Operations(uow.session).get(f"order:{order_id}:authorize")
    before = await Payments(uow.session).get(order_id)
    after = await _change(ctx, uow, order_id, lambda p, now: decide(p, authorization, now))
    if before and after and after.state is PaymentState.VOIDED and before.state is not after.state:
        _emit_voided(uow, after, ctx.clock.now(), reason)


async def on_order_shipped(
    ctx: PaymentsContext, received: Received[OrderShipped], uow: UnitOfWork
) -> None:
    if received.event.replacement:
        return  # an exchange's replacement: the order was captured when it first shipped
    payment = await Payments(uow.session).get(received.event.order_id)
    if payment is None:
        return
    if payment.state is not PaymentState.AUTHORIZED or payment.ended:
        if payment.state in (PaymentState.FAILED, PaymentState.VOIDED, PaymentState.AUTHORIZING):
            _emit_capture_failed(uow, payment, f"the payment is {payment.state.value}", ctx)
        return  # already captured (a replay) or further along
    await _change(ctx, uow, payment.order_id, domain.capture)


async def on_order_completed(
    ctx: PaymentsContext, received: Received[OrderCompleted], uow: UnitOfWork
) -> None:
    await _change(
        ctx, uow, received.event.order_id, lambda p, now: domain.release(p, now, ctx.fee_bps)
    )


async def on_order_returned(
    ctx: PaymentsContext, received: Received[OrderReturned], uow: UnitOfWork
) -> None:
    """The seller has the item back: refund whatever is still refundable."""
    await _refund(ctx, uow, received.event.order_id, None, "The item was returned", "return")


async def on_ticket_resolved(
    ctx: PaymentsContext, received: Received[TicketResolved], uow: UnitOfWork
) -> None:
    """Support decided a ticket. Support refuses what cannot be done before it publishes, so
    a resolution refused here (an order payments does not know, more than the order holds)
    was forged or is stale: it is dead-lettered with the reason and moves no money."""
    event = received.event
    reason = f"Support ticket {event.ticket_id}: {event.note}"
    if event.action not in ("refund", "partial_refund", "credit"):
        return
    payment = await Payments(uow.session).get(event.order_id)
    if payment is None:
        raise domain.PaymentRefused(
            f"order {event.order_id} has no payment here: nothing to refund or credit"
        )
    if event.amount is not None and event.amount.currency != payment.currency:
        raise domain.PaymentRefused(
            f"order {event.order_id} is paid in {payment.currency}, "
            f"the resolution is in {event.amount.currency}"
        )
    if event.action == "refund":
        amount = event.amount.amount_minor if event.amount else None
        if payment.state in (PaymentState.AUTHORIZING, PaymentState.AUTHORIZED) and not (
            domain.capture_under_way(
                payment, await Operations(uow.session).of_order(payment.order_id)
            )
        ):
            # Nothing captured yet: the buyer gets everything back as a void of the hold.
            await _void(
                ctx,
                uow,
                event.order_id,
                lambda p, authorization, now: domain.refund_before_capture(
                    p, authorization, amount, now, reason
                ),
                reason,
            )
            return
        await _refund(ctx, uow, event.order_id, amount, reason, event.ticket_id)
    elif event.action == "partial_refund":
        if event.amount is None:
            raise domain.PaymentRefused("a partial refund needs an amount")
        await _refund(ctx, uow, event.order_id, event.amount.amount_minor, reason, event.ticket_id)
    elif event.action == "credit":
        if event.amount is None:
            raise domain.PaymentRefused("a credit needs an amount")
        await issue_credit(ctx, uow, event, reason)


async def _refund(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    order_id: str,
    amount_minor: int | None,
    reason: str,
    key: str,
) -> None:
    operations = Operations(uow.session)
    if await operations.get(f"order:{order_id}:refund:{key}") is not None:
        return  # decided before: this request is a replay
    payment = await Payments(uow.session).get(order_id)
    if payment is not None and domain.capture_under_way(
        payment, await operations.of_order(order_id)
    ):
        waiting = WaitingRefunds(uow.session)
        already = await waiting.of_order(order_id)
        if any(request.key == key for request in already):
            return  # a replay of a refund that waits
        request = domain.WaitingRefund(order_id, key, amount_minor, reason, ctx.clock.now())
        domain.check_waiting_refund(payment, already, request, ctx.clock.now())
        await waiting.add(request)
        log.info("refund waits for the capture under way", order_id=order_id, key=key)
        return
    await _change(
        ctx, uow, order_id, lambda p, now: domain.refund(p, amount_minor, reason, key, now)
    )


async def issue_credit(
    ctx: PaymentsContext, uow: UnitOfWork, event: TicketResolved, reason: str
) -> None:
    assert event.amount is not None
    now = ctx.clock.now()
    payment = await Payments(uow.session).get(event.order_id)
    if payment is None:
        raise domain.PaymentRefused(f"order {event.order_id} has no payment here: no credit")
    ledger_repository = Ledger(uow.session)
    if any(
        row.entry_id == f"order:{event.order_id}:credit:{event.ticket_id}"
        for row in await ledger_repository.of_order(event.order_id)
    ):
        return  # issued before: a replay
    credited = await ledger_repository.credited(event.order_id)
    issued = domain.goodwill_credit(
        payment,
        credited,
        ctx.credit_limit_bps,
        event.buyer_id,
        event.amount,
        reason,
        event.ticket_id,
        now,
    )
    await ledger_repository.write([issued])
    balances = await _move_credit(uow, (issued,))
    credited += event.amount.amount_minor
    uow.emit(
        CreditIssued(
            order_id=event.order_id,
            buyer_id=event.buyer_id,
            amount=event.amount,
            balance=event.amount.model_copy(update={"amount_minor": balances[event.buyer_id]}),
            reason=event.note,
            issued_at=now,
            total_credited=payment.money(credited),
            creditable=payment.money(
                domain.creditable_minor(payment, credited, ctx.credit_limit_bps)
            ),
        )
    )


def event_router(ctx: PaymentsContext) -> EventRouter:
    router = EventRouter()

    router.add(OrderPlaced, partial(on_order_placed, ctx))
    for ended in (OrderCancelled, OrderDeclined, OrderSellerBackedOut):
        router.add(ended, partial(on_order_ended, ctx))
    router.add(OrderShipped, partial(on_order_shipped, ctx))
    router.add(OrderCompleted, partial(on_order_completed, ctx))
    router.add(OrderReturned, partial(on_order_returned, ctx))
    router.add(TicketResolved, partial(on_ticket_resolved, ctx))
    return router


# --- the operation worker -----------------------------------------------------------------


async def run_operations(ctx: PaymentsContext) -> bool:
    """One pass of the worker; True if there may be more waiting."""
    if ctx.lock is not None and not await ctx.lock.held():
        return False
    now_monotonic = time.monotonic()
    backing_off = frozenset(
        ctx.backoff_orders[op_id]
        for op_id, (_, next_try) in ctx.backoff.items()
        if next_try > now_monotonic and op_id in ctx.backoff_orders
    )
    async with ctx.db.unit_of_work() as uow:
        waiting = await Operations(uow.session).open(ctx.batch_size, order_ids_waiting=backing_off)
        due = [
            op
            for op in domain.runnable(waiting)
            if ctx.backoff.get(op.id, (0, 0.0))[1] <= now_monotonic
        ]
        claimed: list[tuple[Operation, bool, Payment]] = []
        for pending in due:
            payment = await Payments(uow.session).get(pending.order_id)
            assert payment is not None
            operation = domain.aimed_at_current_hold(pending, payment)
            resumed = operation.state is OperationState.STARTED
            if not resumed:
                await Operations(uow.session).save(
                    operation.started(ctx.clock.now()), was=OperationState.PENDING
                )
            claimed.append((operation.started(ctx.clock.now()), resumed, payment))
        await uow.commit()
    if not claimed:
        return False
    limit = asyncio.Semaphore(ctx.concurrency)

    async def run(operation: Operation, resumed: bool, payment: Payment) -> None:
        async with limit:
            await _perform(ctx, operation, resumed, payment)

    await asyncio.gather(*(run(*item) for item in claimed))
    return len(waiting) == ctx.batch_size


async def _perform(
    ctx: PaymentsContext, operation: Operation, resumed: bool, payment: Payment
) -> None:
    bind_correlation_id(payment.correlation_id)
    try:
        outcome = await _ask(ctx, operation, resumed, payment)
    except TransientCardError as error:
        # Stripe unreachable (or our key refused): every operation waits alike, so it is
        # tried again later, for as long as it takes; other orders go on meanwhile.
        _back_off(ctx, operation, error)
        return
    except Exception as error:
        if not refused_for_good(error) and (
            _back_off(ctx, operation, error) < ctx.attempts_before_set_aside
        ):
            return
        outcome = _set_aside(operation, error)
    try:
        await record_outcome(ctx, operation, outcome)
    except Exception as error:
        # Recording the answer fails (a bug): tried again (the answer is looked up at
        # Stripe), then the operation alone is set aside, so the queue goes on.
        if _back_off(ctx, operation, error) < ctx.attempts_before_set_aside:
            return
        await _set_aside_unrecorded(ctx, operation, _set_aside(operation, error))
    _forget_backoff(ctx, operation)


def _back_off(ctx: PaymentsContext, operation: Operation, error: Exception) -> int:
    """Try `operation` again later; answers how many times it has failed so far."""
    failures = ctx.backoff.get(operation.id, (0, 0.0))[0] + 1
    ctx.backoff[operation.id] = (failures, time.monotonic() + min(60.0, 0.5 * 2**failures))
    ctx.backoff_orders[operation.id] = operation.order_id
    log.warning(
        "card operation failed; will retry",
        operation=operation.id,
        error=repr(error),
        failures=failures,
        transient=isinstance(error, TransientCardError),
    )
    return failures


def _forget_backoff(ctx: PaymentsContext, operation: Operation) -> None:
    ctx.backoff.pop(operation.id, None)
    ctx.backoff_orders.pop(operation.id, None)


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


async def _set_aside_unrecorded(
    ctx: PaymentsContext, operation: Operation, outcome: CardOutcome
) -> None:
    async with ctx.db.unit_of_work() as uow:
        finished = operation.finished(outcome, ctx.clock.now())
        await Operations(uow.session).save(finished, was=OperationState.STARTED)
        await uow.commit()


async def _ask(
    ctx: PaymentsContext, operation: Operation, resumed: bool, payment: Payment
) -> CardOutcome:
    if operation.kind is OperationKind.TRANSFER:
        return await ctx.payouts.transfer(operation, payment.seller_id)
    if operation.kind is OperationKind.REAUTHORIZE and domain.renewal_obsolete(payment):
        return CardOutcome(succeeded=False, reason=f"not needed: the payment is {payment.state}")
    if operation.amount_minor == 0:
        # Credit paid for everything: there is nothing on the card to act on.
        return CardOutcome(succeeded=True, payment_intent_id=operation.payment_intent_id or "")
    found = await ctx.cards.look_up(operation) if resumed else None
    if found is not None:
        log.info("resumed operation had already happened", operation=operation.id)
        return found
    return await ctx.cards.perform(operation, payment.payment_method)


async def record_outcome(ctx: PaymentsContext, operation: Operation, outcome: CardOutcome) -> None:
    """Record what Stripe answered, with its ledger entries and events, in one transaction."""
    async with ctx.db.unit_of_work() as uow:
        payment = await Payments(uow.session).get(operation.order_id)
        assert payment is not None
        uow.correlation_id = payment.correlation_id
        now = ctx.clock.now()
        finished = operation.finished(outcome, now)
        await Operations(uow.session).save(finished, was=OperationState.STARTED)
        record = _RECORDERS[operation.kind]
        await record(ctx, uow, payment, finished, outcome, now)
        await uow.commit()


async def _record_authorization(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    payment: Payment,
    operation: Operation,
    outcome: CardOutcome,
    now: datetime,
) -> None:
    decision = domain.record_authorization(payment, operation, outcome, now, ctx.authorization_hold)
    saved = await apply(uow, decision)
    _queued(ctx, decision)
    assert saved is not None
    if outcome.succeeded:
        uow.emit(
            PaymentAuthorized(
                order_id=saved.order_id,
                payment_intent_id=saved.payment_intent_id or "",
                amount=saved.money(saved.card_minor),
                authorized_at=now,
                expires_at=saved.expires_at or now,
                credit_applied=saved.money(saved.credit_applied_minor)
                if saved.credit_applied_minor
                else None,
                creditable=saved.money(
                    domain.creditable_minor(
                        saved,
                        await Ledger(uow.session).credited(saved.order_id),
                        ctx.credit_limit_bps,
                    )
                ),
            )
        )
    else:
        uow.emit(
            PaymentAuthorizationFailed(
                order_id=saved.order_id,
                amount=saved.money(saved.total_minor),
                reason=saved.failure_reason or "declined",
                decline_code=saved.decline_code,
                failed_at=now,
            )
        )


async def _record_renewal(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    payment: Payment,
    operation: Operation,
    outcome: CardOutcome,
    now: datetime,
) -> None:
    if domain.renewal_obsolete(payment):
        if outcome.succeeded and outcome.payment_intent_id:  # it moved on while Stripe answered
            await Operations(uow.session).add_if_new(
                domain.release_hold(
                    payment, outcome.payment_intent_id, now, "Renewed after it was not needed"
                )
            )
            ctx.wake_worker()
        return
    renewed = await Payments(uow.session).save(
        domain.record_renewal(payment, outcome, now, ctx.authorization_hold)
    )
    if not outcome.succeeded:
        uow.emit(
            PaymentAuthorizationExpiring(
                order_id=payment.order_id,
                buyer_id=payment.buyer_id,
                seller_id=payment.seller_id,
                amount=payment.money(payment.card_minor),
                expires_at=payment.expires_at or now,
                reason=outcome.reason or "the card could not be authorized again",
            )
        )
        return
    # The new hold replaces the old one, which is released rather than left to lapse.
    await Operations(uow.session).add_if_new(
        domain.release_hold(
            payment, payment.payment_intent_id or "", now, "Replaced by a renewed authorization"
        )
    )
    uow.emit(
        PaymentAuthorizationRenewed(
            order_id=renewed.order_id,
            payment_intent_id=renewed.payment_intent_id or "",
            replaced_payment_intent_id=payment.payment_intent_id or "",
            amount=renewed.money(renewed.card_minor),
            expires_at=renewed.expires_at or now,
        )
    )
    ctx.wake_worker()


async def _record_capture(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    payment: Payment,
    operation: Operation,
    outcome: CardOutcome,
    now: datetime,
) -> None:
    if not outcome.succeeded:
        _emit_capture_failed(uow, payment, outcome.reason or "the capture was refused", ctx)
        return
    waiting = WaitingRefunds(uow.session)
    decision = domain.record_capture(
        payment, operation, now, ctx.fee_bps, await waiting.of_order(payment.order_id)
    )
    saved = await apply(uow, decision)
    assert saved is not None
    await waiting.made(payment.order_id)
    _queued(ctx, decision)
    uow.emit(
        PaymentCaptured(
            order_id=saved.order_id,
            payment_intent_id=saved.payment_intent_id or "",
            amount=saved.money(saved.captured_minor),
            captured_at=now,
            refundable=saved.money(saved.refundable_minor),
        )
    )
    if saved.state is PaymentState.RELEASED:
        await _released(ctx, uow, saved)


async def _record_void(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    payment: Payment,
    operation: Operation,
    outcome: CardOutcome,
    now: datetime,
) -> None:
    if not outcome.succeeded:
        log.error("void refused; the hold lapses on its own", order_id=payment.order_id)
    saved = await apply(uow, domain.record_void(payment, operation, now))
    assert saved is not None
    _emit_voided(uow, saved, now, operation.reason or domain.ORDER_ENDED)


async def _record_refund(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    payment: Payment,
    operation: Operation,
    outcome: CardOutcome,
    now: datetime,
) -> None:
    if not outcome.succeeded:
        # The money stays in `refunds_pending`: owed to the buyer, reported by reconciliation.
        log.error(
            "refund refused by the card processor", operation=operation.id, reason=outcome.reason
        )
        return
    await apply(uow, domain.record_refund(payment, operation, now))
    requested, clawback = await _refund_decided(uow, payment, operation)
    uow.emit(
        PaymentRefunded(
            order_id=payment.order_id,
            amount=payment.money(requested),
            total_refunded=payment.money(payment.refunded_minor),
            full=payment.refunded_minor == payment.captured_minor,
            reason=operation.reason,
            refunded_at=now,
            to_credit=payment.money(requested - operation.amount_minor)
            if requested > operation.amount_minor
            else None,
            clawed_back=payment.money(clawback) if clawback else None,
            captured=payment.money(payment.captured_minor),
            refundable=payment.money(payment.refundable_minor),
        )
    )


async def _refund_decided(
    uow: UnitOfWork, payment: Payment, operation: Operation
) -> tuple[int, int]:
    """(the whole refund, the seller's claw-back) as decided with `operation`, read from the
    ledger entry written when it was decided."""
    decided = [
        row
        for row in await Ledger(uow.session).of_order(operation.order_id)
        if row.entry_id == f"{operation.id}:decided"
    ]
    requested = sum(row.amount_minor for row in decided if row.amount_minor > 0)
    payable = ledger.seller_payable(payment.seller_id)
    clawback = -sum(row.amount_minor for row in decided if row.account == payable)
    return requested, clawback


async def _record_payout(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    payment: Payment,
    operation: Operation,
    outcome: CardOutcome,
    now: datetime,
) -> None:
    if not outcome.succeeded:
        log.error("payout refused; the amount stays payable", operation=operation.id)
        return
    await apply(uow, domain.record_payout(payment, operation, now))


async def _record_released_hold(
    ctx: PaymentsContext,
    uow: UnitOfWork,
    payment: Payment,
    operation: Operation,
    outcome: CardOutcome,
    now: datetime,
) -> None:
    """A hold replaced by a renewal was released; the payment itself does not change."""
    if not outcome.succeeded:
        log.warning("replaced hold not released; it lapses on its own", operation=operation.id)


_RECORDERS = {
    OperationKind.AUTHORIZE: _record_authorization,
    OperationKind.REAUTHORIZE: _record_renewal,
    OperationKind.CAPTURE: _record_capture,
    OperationKind.VOID: _record_void,
    OperationKind.REFUND: _record_refund,
    OperationKind.TRANSFER: _record_payout,
    OperationKind.RELEASE_HOLD: _record_released_hold,
}


async def _released(ctx: PaymentsContext, uow: UnitOfWork, payment: Payment) -> None:
    uow.emit(
        PaymentReleased(
            order_id=payment.order_id,
            seller_id=payment.seller_id,
            amount=payment.money(payment.released_minor),
            platform_fee=payment.money(payment.fee_minor),
            released_at=ctx.clock.now(),
            refundable=payment.money(payment.refundable_minor),
        )
    )
    if payment.released_minor > 0 and await ctx.payouts.can_pay(payment.seller_id):
        await Operations(uow.session).add_if_new(domain.payout(payment, ctx.clock.now()))
        ctx.wake_worker()


def _emit_voided(uow: UnitOfWork, payment: Payment, now: datetime, reason: str) -> None:
    uow.emit(
        PaymentVoided(
            order_id=payment.order_id,
            payment_intent_id=payment.payment_intent_id or "",
            amount=payment.money(payment.card_minor if payment.payment_intent_id else 0),
            voided_at=now,
            credit_returned=payment.money(payment.credit_applied_minor)
            if payment.credit_applied_minor
            else None,
            reason=reason,
        )
    )


def _emit_capture_failed(
    uow: UnitOfWork, payment: Payment, reason: str, ctx: PaymentsContext
) -> None:
    uow.emit(
        PaymentCaptureFailed(
            order_id=payment.order_id,
            buyer_id=payment.buyer_id,
            seller_id=payment.seller_id,
            amount=payment.money(payment.total_minor),
            reason=reason,
            failed_at=ctx.clock.now(),
        )
    )


# --- deadlines ----------------------------------------------------------------------------


async def renew_expiring_authorizations(ctx: PaymentsContext, now: datetime) -> int:
    """Before a hold lapses on an order not yet shipped, ask for a new one; if that fails,
    the buyer and support are told (`PaymentAuthorizationExpiring`). Never silently."""
    fired = 0
    async with ctx.db.unit_of_work() as uow:
        candidates = await Payments(uow.session).renewal_candidates(
            now + ctx.renew_before, ctx.batch_size
        )
        for payment in candidates:
            if not domain.renewal_due(payment, now, ctx.renew_before):
                continue
            if await Operations(uow.session).has_open(payment.order_id):
                continue  # a capture or void is on its way, or a renewal already is
            if await Operations(uow.session).add_if_new(domain.renew(payment, now)):
                fired += 1
        await uow.commit()
    if fired:
        ctx.wake_worker()
    return fired
