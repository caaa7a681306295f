"""Payments' event handlers and the renewal timer.

Each reads the payment once, asks `domain` what the fact does, and stores the `Decision`
(`store`): the card operations it records are run by the worker (`worker.py`), never here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

import structlog

from contracts.orders import (
    OrderCancelled,
    OrderCompleted,
    OrderDeclined,
    OrderPlaced,
    OrderReturned,
    OrderSellerBackedOut,
    OrderShipped,
)
from contracts.support import TicketResolved
from payments import domain
from payments.context import PaymentsContext
from payments.db import PaymentsUnit
from payments.domain import Decision, Payment, PaymentState, WaitingRefund, published, rebooking
from payments.store import has_work_queued, store, store_new
from servicekit.messaging.events import EventRouter, Received

log = structlog.get_logger(__name__)


async def _stored(
    ctx: PaymentsContext, uow: PaymentsUnit, before: Payment, decision: Decision
) -> None:
    if decision.changes(before):
        await store(uow, before, decision)
    if has_work_queued(decision):
        ctx.wake_worker()


async def _payment_of(uow: PaymentsUnit, order_id: str) -> Payment | None:
    payment = await uow.payments.get(order_id)
    if payment is None:
        log.warning("no payment for this order; ignored", order_id=order_id)
    return payment


# --- events from orders -------------------------------------------------------------------


async def on_order_placed(
    ctx: PaymentsContext, received: Received[OrderPlaced], uow: PaymentsUnit
) -> None:
    """Spend the buyer's credit first and queue the card authorization for the rest."""
    event = received.event
    now = ctx.clock.now()
    credit, _ = await uow.credit_balances.balance(event.buyer_id, event.total.currency)
    payment = Payment(
        order_id=event.order_id,
        buyer_id=event.buyer_id,
        seller_id=event.seller_id,
        currency=event.total.currency,
        total_minor=event.total.amount_minor,
        payment_method=event.payment_method,
        state=PaymentState.AUTHORIZING,
        created_at=now,
        correlation_id=received.envelope.correlation_id,
    )
    if event.replaces is not None:
        await _rebooked(ctx, uow, payment, event.replaces)
        return
    decision = domain.place(payment, credit, now)
    if await store_new(uow, decision) and has_work_queued(decision):
        ctx.wake_worker()


async def _rebooked(ctx: PaymentsContext, uow: PaymentsUnit, new: Payment, first_id: str) -> None:
    """Support rebooked the buyer (#20): the new order is paid from the first order's hold,
    never a new charge. If that hold is gone (voided, lapsed), the new order's authorization
    fails and orders cancels it: the buyer is never charged again without asking."""
    now = ctx.clock.now()
    first = await uow.payments.get(first_id)
    if first is None or not rebooking.waits_for_rebook(first):
        failed = replace(
            new, state=PaymentState.FAILED, failure_reason="the first order's hold is gone"
        )
        decision = Decision(failed).publishing(published.authorization_failed(failed, now))
        await store_new(uow, decision)
        return
    moved, funded = rebooking.fund_rebooking(
        first, new, now, ctx.rebook_charge, ctx.credit_limit_bps
    )
    if await store_new(uow, funded):
        await _stored(ctx, uow, first, moved)


async def on_order_ended(ctx: PaymentsContext, received: Received[Any], uow: PaymentsUnit) -> None:
    """Cancelled, declined, or the seller backed out: void whatever the card holds; an order
    cancelled after its capture is refunded instead."""
    payment = await _payment_of(uow, received.event.order_id)
    if payment is None:
        return
    event = received.event
    if isinstance(event, OrderSellerBackedOut) and event.event is not None:
        # a ticket or booking for an event: the hold waits for a rebooking (#20)
        await _stored(ctx, uow, payment, rebooking.keep_for_rebook(payment))
        return
    if rebooking.waits_for_rebook(payment):
        return  # its order.cancelled: support's resolution decides (`on_ticket_resolved`)
    operations = await uow.operations.of_order(payment.order_id)
    if _captured_or_capturing(payment, operations):
        # Cancelled after its capture (support's `cancel` of a shipped order): the buyer gets
        # back everything still refundable, once (the refund's key is the cancellation).
        if payment.refundable_minor > 0 or domain.capture_under_way(payment, operations):
            reason = f"The order was cancelled ({received.event.reason})"
            await _refund(ctx, uow, payment, None, reason, "cancel")
        return
    authorization = await uow.operations.get(payment.operation_id(domain.OperationKind.AUTHORIZE))
    decision = domain.end_before_capture(payment, authorization, ctx.clock.now())
    await _stored(ctx, uow, payment, decision)


def _captured_or_capturing(payment: Payment, operations: Any) -> bool:
    return payment.state in (
        PaymentState.CAPTURED,
        PaymentState.PARTIALLY_REFUNDED,
        PaymentState.RELEASED,
    ) or domain.capture_under_way(payment, operations)


async def on_order_shipped(
    ctx: PaymentsContext, received: Received[OrderShipped], uow: PaymentsUnit
) -> None:
    if received.event.replacement:
        return  # an exchange's replacement: the order was captured when it first shipped
    payment = await uow.payments.get(received.event.order_id)
    if payment is None:
        return
    await _stored(ctx, uow, payment, domain.ship(payment, ctx.clock.now()))


async def on_order_completed(
    ctx: PaymentsContext, received: Received[OrderCompleted], uow: PaymentsUnit
) -> None:
    payment = await _payment_of(uow, received.event.order_id)
    if payment is None:
        return
    decision = domain.complete(payment, ctx.clock.now(), ctx.fee_bps)
    await _stored(ctx, uow, payment, decision)


async def on_order_returned(
    ctx: PaymentsContext, received: Received[OrderReturned], uow: PaymentsUnit
) -> None:
    """The seller has the item back: refund whatever is still refundable."""
    payment = await _payment_of(uow, received.event.order_id)
    if payment is None:
        return
    await _refund(ctx, uow, payment, None, "The item was returned", "return")


# --- events from support ------------------------------------------------------------------


async def on_ticket_resolved(
    ctx: PaymentsContext, received: Received[TicketResolved], uow: PaymentsUnit
) -> None:
    """Support decided a ticket. Support refuses what cannot be done before it publishes, so
    a resolution refused here (an order payments does not know, more than the order holds)
    was forged or is stale: it is dead-lettered with the reason and moves no money."""
    event = received.event
    if event.action not in ("refund", "rebook"):
        await _release_kept_hold(ctx, uow, event)
    if event.action not in ("refund", "partial_refund", "credit"):
        return
    payment = await uow.payments.get(event.order_id)
    if payment is None:
        raise domain.PaymentRefused(
            f"order {event.order_id} has no payment here: nothing to refund or credit"
        )
    if event.amount is not None:
        domain.check_currency(payment, event.amount)
    reason = f"Support ticket {event.ticket_id}: {event.note}"
    amount = event.amount.amount_minor if event.amount else None
    if event.action == "refund":
        await _refund(ctx, uow, payment, amount, reason, event.ticket_id, void_before_capture=True)
    elif event.action == "partial_refund":
        if event.amount is None:
            raise domain.PaymentRefused("a partial refund needs an amount")
        await _refund(ctx, uow, payment, amount, reason, event.ticket_id)
    elif event.action == "credit":
        if event.amount is None:
            raise domain.PaymentRefused("a credit needs an amount")
        balance, _ = await uow.credit_balances.balance(payment.buyer_id, payment.currency)
        decision = domain.issue_credit(
            payment,
            await uow.ledger.posted(payment.order_id),
            balance,
            ctx.credit_limit_bps,
            event.buyer_id,
            event.amount,
            event.note,
            event.ticket_id,
            ctx.clock.now(),
        )
        await _stored(ctx, uow, payment, decision)


async def _release_kept_hold(
    ctx: PaymentsContext, uow: PaymentsUnit, event: TicketResolved
) -> None:
    """A hold kept for a rebooking that support decided otherwise (credit, no action...) is
    voided: without a rebooking the buyer's money goes back (#20)."""
    payment = await uow.payments.get(event.order_id)
    if payment is not None and rebooking.waits_for_rebook(payment):
        decision = domain.end_before_capture(
            payment, None, ctx.clock.now(), f"Support ticket {event.ticket_id}: no rebooking"
        )
        await _stored(ctx, uow, payment, decision)


async def _refund(
    ctx: PaymentsContext,
    uow: PaymentsUnit,
    payment: Payment,
    amount_minor: int | None,
    reason: str,
    key: str,
    *,
    void_before_capture: bool = False,
) -> None:
    waiting = uow.waiting_refunds
    decided = domain.request_refund(
        payment,
        await uow.operations.of_order(payment.order_id),
        await waiting.of_order(payment.order_id),
        amount_minor,
        reason,
        key,
        ctx.clock.now(),
        void_before_capture=void_before_capture,
    )
    if isinstance(decided, WaitingRefund):
        await waiting.add(decided)
        log.info("refund waits for the capture under way", order_id=payment.order_id, key=key)
    elif decided is not None:
        await _stored(ctx, uow, payment, decided)


def event_router(ctx: PaymentsContext) -> EventRouter[PaymentsUnit]:
    router = EventRouter[PaymentsUnit]()

    router.add(OrderPlaced, partial(on_order_placed, ctx))
    for ended in (OrderCancelled, OrderDeclined, OrderSellerBackedOut):
        router.add(ended, partial(on_order_ended, ctx))
    router.add(OrderShipped, partial(on_order_shipped, ctx))
    router.add(OrderCompleted, partial(on_order_completed, ctx))
    router.add(OrderReturned, partial(on_order_returned, ctx))
    router.add(TicketResolved, partial(on_ticket_resolved, ctx))
    return router


# --- deadlines ----------------------------------------------------------------------------


async def renew_expiring_authorizations(ctx: PaymentsContext, now: datetime) -> int:
    """Before a hold lapses on an order not yet shipped, ask for a new one; if that fails,
    the buyer and support are told (`PaymentAuthorizationExpiring`). Never silently."""
    fired = 0
    async with ctx.db.unit_of_work() as uow:
        candidates = await uow.payments.renewal_candidates(now + ctx.renew_before, ctx.batch_size)
        for payment in candidates:
            if not domain.renewal_due(payment, now, ctx.renew_before):
                continue
            if await uow.operations.has_open(payment.order_id):
                continue  # a capture or void is on its way, or a renewal already is
            if rebooking.waits_for_rebook(payment):
                # a hold kept for a rebooking that never came is not renewed: voided (#20)
                decision = domain.end_before_capture(
                    payment, None, now, "Kept for a rebooking that did not come in time"
                )
                await store(uow, payment, decision)
                fired += 1
                continue
            if await uow.operations.add_if_new(domain.renew(payment, now)):
                fired += 1
        await uow.commit()
    if fired:
        ctx.wake_worker()
    return fired
