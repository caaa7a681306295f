import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, MetaData, String, Table

from contracts import Money
from contracts.orders import OrderPlaced
from servicekit.broker import ensure_topics
from servicekit.clock import ManualClock
from servicekit.db import kit_metadata, make_engine
from servicekit.uow import Database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

test_metadata = MetaData()
handled_orders = Table(
    "handled_orders",
    test_metadata,
    Column("event_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
)


def placed(order_id: str, quantity: int = 1) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        buyer_id="usr_b",
        seller_id="usr_s",
        listing_id="lst_1",
        quantity=quantity,
        unit_price=Money(amount_minor=500, currency="EUR"),
        total=Money(amount_minor=500 * quantity, currency="EUR"),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
    )


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(kit_metadata.create_all)
        await connection.run_sync(test_metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def db(engine, clock):
    return Database(engine, source="kit-test", clock=clock)


@pytest.fixture
def group():
    """A consumer group per test: a group's new member would otherwise wait for the
    previous test's member to time out."""
    return f"kit-group-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def topic(kafka_bootstrap, group):
    name = f"kit-test-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, {name: 3, f"{name}.{group}.dlq": 1})
    return name
