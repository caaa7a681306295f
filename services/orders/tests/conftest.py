import pytest
from fastapi import FastAPI

from orders.api import install_api
from orders.app import MIGRATIONS
from orders.db import OrdersUnit
from orders.domain import OrderRules
from orders.handlers import OrdersContext
from servicekit.domain.calendar import BusinessCalendar
from servicekit.domain.clock import ManualClock
from servicekit.hosting.http import install_problem_handlers
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database

from orders_test_helpers import NOW


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
async def engine(migrated_database):
    engine = make_engine(await migrated_database(MIGRATIONS))
    yield engine
    await engine.dispose()


@pytest.fixture
def ctx(engine, clock):
    return OrdersContext(
        db=Database(engine, source="orders", clock=clock, unit=OrdersUnit),
        clock=clock,
        calendar=BusinessCalendar(),
        rules=OrderRules(),
    )


@pytest.fixture
def app(ctx) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.internal_token = ""
    install_api(app, ctx)
    return app
