"""Payments' use cases. Event handlers only write to the database; the card processor is
called by the authorization worker (`authorize_pending`), outside any consumer batch, so a
slow or failing Stripe never holds a batch's transaction open."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from contracts.orders import OrderPlaced
from contracts.payments import PaymentAuthorizationFailed, PaymentAuthorized
from payments import domain
from payments.cards import CardProcessor, TransientCardError
from payments.db import Payments
from payments.domain import AuthorizationOutcome, Payment, PaymentState
from servicekit.clock import Clock
from servicekit.context import bind_correlation_id
from servicekit.events import EventRouter, Received
from servicekit.uow import Database, UnitOfWork

log = structlog.get_logger(__name__)


@dataclass
class PaymentsContext:
    db: Database
    clock: Clock
    cards: CardProcessor
    authorization_hold: timedelta
    concurrency: int = 16
    batch_size: int = 50
    # Orders whose authorization hit a transient error: (failures so far, monotonic time of
    # the next try). Kept in memory: after a restart every waiting order is tried at once.
    backoff: dict[str, tuple[int, float]] = field(default_factory=dict)


async def on_order_placed(
    ctx: PaymentsContext, received: Received[OrderPlaced], uow: UnitOfWork
) -> None:
    """Queue the card authorization; the worker asks Stripe once this commits."""
    event = received.event
    await Payments(uow.session).add_if_new(
        Payment(
            order_id=event.order_id,
            buyer_id=event.buyer_id,
            seller_id=event.seller_id,
            amount=event.total,
            payment_method=event.payment_method,
            state=PaymentState.AUTHORIZING,
            created_at=ctx.clock.now(),
            correlation_id=received.envelope.correlation_id,
        )
    )


def event_router(ctx: PaymentsContext, on_queued: Any) -> EventRouter:
    router = EventRouter()

    async def placed(received: Received[Any], uow: UnitOfWork) -> None:
        await on_order_placed(ctx, received, uow)
        on_queued()

    router.add(OrderPlaced, placed)
    return router


async def authorize_pending(ctx: PaymentsContext) -> bool:
    """One pass of the authorization worker; True if there may be more waiting."""
    now_monotonic = time.monotonic()
    async with ctx.db.unit_of_work() as uow:
        repository = Payments(uow.session)
        waiting = await repository.awaiting_authorization(ctx.batch_size)
        due = [p for p in waiting if ctx.backoff.get(p.order_id, (0, 0.0))[1] <= now_monotonic]
        started = []
        for payment in due:
            resumed = payment.authorize_started_at is not None
            marked = await repository.save(domain.start_authorization(payment, ctx.clock.now()))
            started.append((marked, resumed))
        await uow.commit()
    if not started:
        return False
    limit = asyncio.Semaphore(ctx.concurrency)

    async def run(payment: Payment, resumed: bool) -> None:
        async with limit:
            await _authorize(ctx, payment, resumed)

    await asyncio.gather(*(run(p, resumed) for p, resumed in started))
    return len(waiting) == ctx.batch_size and len(due) == len(waiting)


async def _authorize(ctx: PaymentsContext, payment: Payment, resumed: bool) -> None:
    bind_correlation_id(payment.correlation_id)
    try:
        outcome = await ctx.cards.find_authorization(payment.order_id) if resumed else None
        if outcome is None:
            outcome = await ctx.cards.authorize(
                order_id=payment.order_id,
                amount=payment.amount,
                payment_method=payment.payment_method,
                idempotency_key=payment.idempotency_key,
            )
    except TransientCardError as error:
        failures = ctx.backoff.get(payment.order_id, (0, 0.0))[0] + 1
        ctx.backoff[payment.order_id] = (failures, time.monotonic() + min(60.0, 0.5 * 2**failures))
        log.warning(
            "card processor unavailable; will retry", order_id=payment.order_id, error=str(error)
        )
        return
    ctx.backoff.pop(payment.order_id, None)
    await _record(ctx, payment.order_id, outcome)


async def _record(ctx: PaymentsContext, order_id: str, outcome: AuthorizationOutcome) -> None:
    async with ctx.db.unit_of_work() as uow:
        repository = Payments(uow.session)
        payment = await repository.get(order_id)
        if payment is None or payment.state is not PaymentState.AUTHORIZING:
            return
        uow.correlation_id = payment.correlation_id
        now = ctx.clock.now()
        updated = await repository.save(
            domain.record_outcome(payment, outcome, now, ctx.authorization_hold)
        )
        if updated.state is PaymentState.AUTHORIZED:
            uow.emit(
                PaymentAuthorized(
                    order_id=updated.order_id,
                    payment_intent_id=updated.payment_intent_id or "",
                    amount=updated.amount,
                    authorized_at=now,
                    expires_at=updated.expires_at or now,
                )
            )
        else:
            uow.emit(
                PaymentAuthorizationFailed(
                    order_id=updated.order_id,
                    amount=updated.amount,
                    reason=updated.failure_reason or "declined",
                    decline_code=updated.decline_code,
                    failed_at=now,
                )
            )
        await uow.commit()
