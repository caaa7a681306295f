"""Shared values and builders for the seller standards tests (fixtures are in conftest.py)."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from contracts import Event, Money
from contracts.orders import OrderAccepted, OrderPlaced, OrderShipped
from seller_standards.domain.facts import OrderFacts, Review
from seller_standards.domain.metrics import Metric, metrics
from seller_standards.domain.policy import DEFAULT_POLICY, Policy
from seller_standards.domain.standing import Change, SellerStanding, evaluate
from seller_standards.handlers import event_router
from servicekit.messaging.db import outbox
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


async def published(engine: Any, event_type: str) -> list[dict[str, Any]]:
    """The data of the events of `event_type` the service has published so far."""
    async with engine.connect() as connection:
        query = select(outbox).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        rows = (await connection.execute(query)).all()
    return [json.loads(row.payload)["data"] for row in rows]


async def standing_changes(engine: Any) -> list[dict[str, Any]]:
    return await published(engine, "marketplace.seller.standing_changed.v1")


# --- builders for the pure rules' tests ------------------------------------------------------

PLACED = NOW - timedelta(days=10)
POLICY = Policy()

GOOD = SellerStanding(SELLER)
AT_RISK = SellerStanding(SELLER, standing="at_risk", computed="at_risk")
UNDER_REVIEW = SellerStanding(
    SELLER, standing="under_review", computed="under_review", under_review_since=NOW
)


def order(n: int | str, placed: datetime = PLACED, **extra) -> OrderFacts:
    """An order shipped a day after it was placed (a day before its ship-by), with a tracking
    number the carrier has scanned, unless told otherwise."""
    values = {
        "fulfilment": "seller_ships",
        "ship_by": placed + timedelta(days=2),
        "shipped_at": placed + timedelta(days=1),
        "has_tracking": True,
        "carrier_seen": True,
    } | extra
    return OrderFacts(order_id=f"ord_{n}", seller_id=SELLER, placed_at=placed, **values)


def late(n: int | str, placed: datetime = PLACED, **extra) -> OrderFacts:
    """An order shipped a day after its ship-by."""
    return order(n, placed, shipped_at=placed + timedelta(days=3), **extra)


def measure(orders=(), reviews=(), exemptions=(), now: datetime = NOW) -> dict[str, Metric]:
    return metrics(list(orders), list(reviews), list(exemptions), now, POLICY)


def shipping(on_time: int, late_ones: int) -> dict[str, Metric]:
    """The metrics of a seller who shipped `on_time` orders in time and `late_ones` late."""
    return measure(
        [order(f"ok{i}") for i in range(on_time)] + [late(f"late{i}") for i in range(late_ones)]
    )


def reviewed(*ratings: int) -> tuple[list[OrderFacts], list[Review]]:
    """Orders each with one review of the given rating."""
    orders = [order(i) for i in range(len(ratings))]
    reviews = [
        Review(f"rev_{i}", f"ord_{i}", rating, PLACED + timedelta(days=5))
        for i, rating in enumerate(ratings)
    ]
    return orders, reviews


def judged(all_metrics: dict[str, Metric]) -> dict[str, Metric]:
    return {name: m for name, m in all_metrics.items() if m.judged}


def standing_after(
    current: SellerStanding, all_metrics: dict[str, Metric], now: datetime = NOW
) -> tuple[SellerStanding, Change | None]:
    return evaluate(current, all_metrics, now, POLICY)


def rate_metric(name: str, value: float, sample: int = 100) -> Metric:
    return Metric(name, value, sample, DEFAULT_POLICY[name])


def asked(n: int, asked_at: datetime, replied_after: timedelta | None) -> OrderFacts:
    replied = asked_at + replied_after if replied_after is not None else None
    return order(n, first_buyer_message_at=asked_at, seller_replied_at=replied)


def recent_orders(count: int) -> list[OrderFacts]:
    return [order(f"new{i}", NOW - timedelta(hours=12 * i + 1)) for i in range(count)]


def baseline_orders(count: int) -> list[OrderFacts]:
    """Orders spread over the four weeks before the recent week."""
    start = NOW - POLICY.surge_recent - timedelta(hours=1)
    step = (POLICY.surge_baseline - timedelta(hours=2)) / max(count, 1)
    return [order(f"base{i}", start - step * i) for i in range(count)]
