"""The deadline job on the service's clock: it finds the orders whose `act_by` passed and lets
the domain decide what follows (`domain.act_on_deadline`, by the order's status), one unit of
work per order. Every status in which someone must act has its deadline there, so one job
keeps every order, request and ticket moving; the status-scoped entry points below are the
same mechanism restricted to some statuses."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import partial

import structlog

from orders import domain
from orders.domain import DomainError, Status
from orders.handlers.context import OrdersContext, keep
from servicekit.hosting.timers import TimerJob
from servicekit.messaging.failures import ConcurrentUpdate

log = structlog.get_logger(__name__)


async def _fire(
    ctx: OrdersContext,
    now: datetime,
    statuses: Collection[Status] | None = None,
    limit: int = 100,
) -> int:
    wanted = None if statuses is None else [status.value for status in statuses]
    async with ctx.db.unit_of_work() as uow:
        due = await uow.orders.due(wanted, "act_by", now, limit)
    fired = 0
    for order_id in due:
        try:
            async with ctx.db.unit_of_work() as uow:
                order = await uow.orders.get(order_id)
                if order is None or (statuses is not None and order.status not in statuses):
                    continue
                outcome = domain.act_on_deadline(order, now, ctx.rules, ctx.calendar)
                await keep(ctx, uow, order, outcome, now)
                await uow.commit()
                fired += 1
        except (ConcurrentUpdate, DomainError) as error:
            # A command won the race for this order (or moved it on since it was found due);
            # the others still fire, and this one is looked at again next tick if still due.
            log.info("deadline skipped", order_id=order_id, error=str(error))
    return fired


async def act_on_deadlines(ctx: OrdersContext, now: datetime) -> int:
    """Every order whose deadline passed with nobody having acted."""
    return await _fire(ctx, now)


async def expire_acceptances(ctx: OrdersContext, now: datetime) -> int:
    """The seller did not accept in time: cancelled, the authorization released."""
    return await _fire(ctx, now, (Status.AWAITING_SELLER,))


async def flag_overdue_shipments(ctx: OrdersContext, now: datetime) -> int:
    """Ship-by passed without tracking: support opens a ticket, the buyer is told; after the
    grace the order is cancelled."""
    return await _fire(ctx, now, (Status.ACCEPTED,))


async def complete_unconfirmed(ctx: OrdersContext, now: datetime) -> int:
    """Delivered (or, for a transfer, handed over and past its event), and neither confirmed
    nor disputed within the confirmation window; goods with no delivery scan for long: the
    buyer is asked, then they complete."""
    return await _fire(ctx, now, (Status.DELIVERED, Status.SHIPPED))


def timer_jobs(ctx: OrdersContext) -> dict[str, TimerJob]:
    return {"deadlines": partial(act_on_deadlines, ctx)}
