"""Support's clocks, run by the timer: SLA breaches escalate, a buyer's message left
unanswered opens a ticket, and a resolved ticket left quiet closes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from servicekit.messaging.failures import ConcurrentUpdate
from support.domain import tickets as rules
from support.domain.closing import close_if_quiet
from support.domain.triggers import message_unanswered
from support.handlers.context import SupportContext, emit_all, open_automatic


async def escalate_breaches(ctx: SupportContext, now: datetime) -> int:
    """Every open ticket past an SLA target is escalated, once per target."""
    async with ctx.db.unit_of_work() as uow:
        due = await uow.tickets.due_by(now, ctx.batch_size)
    for ticket in due:
        try:
            async with ctx.db.unit_of_work() as uow:
                escalated = rules.escalate(ticket, rules.breaches(ticket, now), now)
                await uow.tickets.save(escalated)
                emit_all(uow, escalated)
                await uow.commit()
        except ConcurrentUpdate:
            pass  # an agent changed it meanwhile: it is looked at again on the next pass
    return len(due)


async def open_unanswered(ctx: SupportContext, now: datetime) -> int:
    """A buyer's message unanswered for 24 hours opens a ticket (one per order)."""
    async with ctx.db.unit_of_work() as uow:
        waiting = uow.awaiting_replies
        orders = uow.orders
        due = await waiting.waiting_since(now - ctx.reply_within, ctx.batch_size)
        for row in due:
            order = await orders.get(row.order_id)
            if order is not None:  # else a message on an order support never saw placed
                asked = message_unanswered(
                    row.order_id, order["seller_id"], row.message_id, row.since
                )
                await open_automatic(ctx, uow, asked, order=order)
            await waiting.answered(row.order_id)
        await uow.commit()
    return len(due)


async def close_quiet(ctx: SupportContext, now: datetime) -> int:
    """Resolved tickets nobody wrote on for the quiet period close by themselves."""
    async with ctx.db.unit_of_work() as uow:
        quiet = await uow.tickets.quiet_since(now - ctx.close_after, ctx.batch_size)
    closed = 0
    for ticket in quiet:
        shut = close_if_quiet(ticket, now, ctx.close_after)
        if shut is None:
            continue
        try:
            async with ctx.db.unit_of_work() as uow:
                await uow.tickets.save(shut)
                emit_all(uow, shut)
                await uow.commit()
            closed += 1
        except ConcurrentUpdate:
            pass  # a party wrote meanwhile (reopened): it is not quiet
    return closed


def timer_jobs(ctx: SupportContext) -> dict[str, Callable[[datetime], Awaitable[int]]]:
    return {
        "sla-breaches": lambda now: escalate_breaches(ctx, now),
        "unanswered-messages": lambda now: open_unanswered(ctx, now),
        "close-resolved": lambda now: close_quiet(ctx, now),
    }
