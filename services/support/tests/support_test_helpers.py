"""Shared values and builders for the support tests (fixtures are in conftest.py)."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from contracts import Event, Money
from contracts.orders import OrderPlaced
from servicekit.db import outbox
from servicekit.testing import received
from support.handlers.events import event_router

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, during business hours
BUYER = "usr_buyer"
SELLER = "usr_seller"


def new_order_id() -> str:
    return f"ord_{uuid.uuid4().hex[:24]}"


def fact(order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "buyer_id": BUYER,
        "seller_id": SELLER,
        "listing_id": "lst_1",
        "fulfilment": "seller_ships",
        "occurred_at": NOW,
    } | extra


def placed(order_id: str) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        buyer_id=BUYER,
        seller_id=SELLER,
        listing_id="lst_1",
        quantity=1,
        unit_price=Money(amount_minor=5000, currency="EUR"),
        total=Money(amount_minor=5000, currency="EUR"),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
    )


async def deliver(ctx: Any, event: Event, source: str = "orders") -> None:
    """Hand `event` to its handler as the consumer does: in one unit of work."""
    route = event_router(ctx).route(event.type)
    async with ctx.db.unit_of_work() as uow:
        await route.handle([received(event, source=source, time=ctx.clock.now())], uow)
        await uow.commit()


async def published(engine: Any) -> list[tuple[str, dict[str, Any]]]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    return [
        (row.event_type.removeprefix("marketplace.support."), json.loads(row.payload)["data"])
        for row in rows
    ]
