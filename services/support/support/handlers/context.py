"""What support's use cases are given, and the automatic ticket: opened by the platform, or
the slip counted on the one already open for its order (or seller) and reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from servicekit.domain.calendar import BusinessCalendar
from servicekit.domain.clock import Clock
from servicekit.messaging.uow import Database
from support.db import SupportUnit
from support.domain import tickets as rules
from support.domain.resale import sla_calendar
from support.domain.tickets import SYSTEM, SlaTargets, Ticket
from support.domain.triggers import TicketAsked


@dataclass
class SupportContext:
    db: Database[SupportUnit]
    clock: Clock
    calendar: BusinessCalendar
    reply_within: timedelta = timedelta(hours=24)
    targets: dict[Any, SlaTargets] = field(default_factory=lambda: dict(rules.DEFAULT_SLA))
    batch_size: int = 100
    credit_limit_ratio: Decimal = Decimal(1)  # of the order's total, all credits counted
    close_after: timedelta = timedelta(days=3)  # a resolved ticket left quiet closes


def new_ticket_id() -> str:
    return f"tkt_{uuid.uuid4().hex[:24]}"


async def open_automatic(
    ctx: SupportContext,
    uow: SupportUnit,
    asked: TicketAsked,
    *,
    order: dict[str, Any] | None = None,
) -> Ticket:
    """Open a `system` ticket, or count the slip on the one already open for this order (or
    seller, when it has no order) and reason: one ticket per order and reason. `order` is
    the order as support knows it, when the caller has read it already."""
    tickets = uow.tickets
    now = ctx.clock.now()
    existing = await tickets.open_for(asked.order_id or asked.seller_id, asked.reason)
    if existing is not None:
        repeated = rules.repeat(existing, asked.context, now)
        await tickets.save(repeated)
        emit_all(uow, repeated)
        return repeated
    if order is None and asked.order_id is not None:
        order = await uow.orders.get(asked.order_id) or asked.order_from_context()
    ticket = rules.open_ticket(
        new_ticket_id(),
        order=order,
        seller_id=asked.seller_id,
        reason=asked.reason,
        opened_by=SYSTEM,
        now=now,
        # Near a resale event's start the SLA runs 24/7 (#20).
        calendar=sla_calendar(asked.context, now, ctx.calendar),
        context=asked.context,
        respond_before=asked.respond_before,
        targets=ctx.targets,
        title=asked.title,
        priority=asked.priority,
    )
    if not await tickets.add(ticket):
        raise RuntimeError(f"a ticket for {asked.order_id}/{asked.reason} was opened concurrently")
    emit_all(uow, ticket)
    return ticket


def emit_all(uow: SupportUnit, changed: Ticket) -> None:
    """Emit what the domain recorded the ticket's last change caused."""
    for event in changed.events:
        uow.emit(event)
