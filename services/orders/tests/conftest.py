import pytest

from orders.app import MIGRATIONS
from orders.domain import OrderRules
from orders.handlers import OrdersContext
from servicekit.calendar import BusinessCalendar
from servicekit.clock import ManualClock
from servicekit.db import make_engine
from servicekit.migrations import upgrade
from servicekit.uow import Database

from orders_test_helpers import NOW


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    await upgrade(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


@pytest.fixture
def ctx(engine, clock):
    return OrdersContext(
        db=Database(engine, source="orders", clock=clock),
        clock=clock,
        calendar=BusinessCalendar(),
        rules=OrderRules(),
    )
