"""What every orders use case shares: its context, the caller, and how a decided outcome is
kept (saved with the events it causes, in the same unit of work)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from orders import domain
from orders.db import OrdersUnit
from orders.domain import Order, OrderRules, Outcome
from servicekit.domain.calendar import BusinessCalendar
from servicekit.domain.clock import Clock
from servicekit.messaging.uow import Database


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True)
class OrdersContext:
    """What the use cases need besides a unit of work."""

    db: Database[OrdersUnit]
    clock: Clock
    calendar: BusinessCalendar
    rules: OrderRules


@dataclass(frozen=True)
class Who:
    """The caller, as the gateway authenticated it."""

    id: str
    role: str
    carrier: str | None = None  # the carrier a `carrier` principal speaks for


async def keep(
    ctx: OrdersContext,
    uow: OrdersUnit,
    before: Order,
    outcome: Outcome,
    now: datetime | None = None,
) -> Order:
    """Save the outcome's order (refused if someone else changed it since `before` was read),
    with the deadline of the status it entered (if it changed status), give the stock back if
    it ended unfulfilled, and emit its events."""
    at = now or ctx.clock.now()
    outcome = domain.scheduled(before, outcome, at, ctx.rules, ctx.calendar)
    saved = await uow.orders.save(outcome.order, before=before)
    if outcome.stock_back:
        await uow.listings.give_back(before.listing_id, before.quantity)
    for event in outcome.events:
        uow.emit(event)
    return saved
