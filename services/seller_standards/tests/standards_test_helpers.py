"""Shared values and builders for the seller standards tests (fixtures are in conftest.py)."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from contracts import Event, Money
from contracts.orders import OrderAccepted, OrderPlaced, OrderShipped
from seller_standards.handlers import event_router
from servicekit.db import outbox
from servicekit.testing import received

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SELLER = "usr_seller"


def new_order_id() -> str:
    return f"ord_{uuid.uuid4().hex[:24]}"


def fact(order_id: str, at: datetime = NOW, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "buyer_id": "usr_buyer",
        "seller_id": SELLER,
        "listing_id": "lst_1",
        "fulfilment": "seller_ships",
        "occurred_at": at,
    } | extra


def placed(order_id: str, at: datetime = NOW) -> OrderPlaced:
    price = Money(amount_minor=5000, currency="EUR")
    return OrderPlaced(
        order_id=order_id,
        buyer_id="usr_buyer",
        seller_id=SELLER,
        listing_id="lst_1",
        quantity=1,
        unit_price=price,
        total=price,
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=at,
    )


def shipping_history(order_id: str, *, late: bool, at: datetime = NOW) -> list[Event]:
    """An order placed, accepted with two days to ship, and shipped in time or a day late."""
    ship_by = at + timedelta(days=2)
    shipped_at = ship_by + (timedelta(days=1) if late else -timedelta(hours=1))
    return [
        placed(order_id, at),
        OrderAccepted(**fact(order_id, at), ship_by=ship_by),
        OrderShipped(
            **fact(order_id, shipped_at),
            total=Money(amount_minor=5000, currency="EUR"),
            carrier="DHL",
            tracking_number=f"TRK{order_id[-6:]}",
        ),
    ]


async def deliver(ctx: Any, event: Event, source: str = "orders") -> None:
    route = event_router(ctx).route(event.type)
    async with ctx.db.unit_of_work() as uow:
        await route.handle([received(event, source=source, time=ctx.clock.now())], uow)
        await uow.commit()


async def standing_changes(engine: Any) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    return [json.loads(row.payload)["data"] for row in rows]
