"""Deadline jobs on the service's clock: each finds the orders whose deadline passed and lets
the domain decide what follows, one unit of work per order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

import structlog

from orders import domain
from orders.domain import DomainError, Order, Outcome, Status
from orders.handlers.context import OrdersContext, keep
from servicekit.hosting.timers import TimerJob
from servicekit.messaging.failures import ConcurrentUpdate

log = structlog.get_logger(__name__)


async def _fire(
    ctx: OrdersContext,
    now: datetime,
    status: Status,
    deadline: str,
    decide: Callable[[Order, datetime], Outcome],
    limit: int = 100,
) -> int:
    async with ctx.db.unit_of_work() as uow:
        due = await uow.orders.due(status.value, deadline, now, limit)
    fired = 0
    for order_id in due:
        try:
            async with ctx.db.unit_of_work() as uow:
                order = await uow.orders.get(order_id)
                if order is None:
                    continue
                await keep(uow, order, decide(order, now))
                await uow.commit()
                fired += 1
        except (ConcurrentUpdate, DomainError) as error:
            # A command won the race for this order (or moved it on since it was found due);
            # the others still fire, and this one is looked at again next tick if still due.
            log.info("deadline skipped", order_id=order_id, deadline=deadline, error=str(error))
    return fired


async def expire_acceptances(ctx: OrdersContext, now: datetime) -> int:
    """The seller did not accept in time: cancelled, the authorization released."""
    return await _fire(ctx, now, Status.AWAITING_SELLER, "accept_by", domain.expire_acceptance)


async def flag_overdue_shipments(ctx: OrdersContext, now: datetime) -> int:
    """Ship-by passed without tracking: support opens a ticket, the buyer is told."""
    return await _fire(ctx, now, Status.ACCEPTED, "ship_by", domain.flag_shipment_overdue)


async def complete_unconfirmed(ctx: OrdersContext, now: datetime) -> int:
    """Delivered (or, for a transfer, handed over and past its event), and neither confirmed
    nor disputed within the confirmation window."""
    fired = 0
    for status in (Status.DELIVERED, Status.SHIPPED):
        fired += await _fire(ctx, now, status, "auto_complete_at", domain.auto_complete)
    return fired


def timer_jobs(ctx: OrdersContext) -> dict[str, TimerJob]:
    return {
        "acceptance-window": partial(expire_acceptances, ctx),
        "ship-by": partial(flag_overdue_shipments, ctx),
        "auto-complete": partial(complete_unconfirmed, ctx),
    }
