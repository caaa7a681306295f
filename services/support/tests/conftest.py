import pytest

from servicekit.domain.calendar import BusinessCalendar
from servicekit.domain.clock import ManualClock
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database
from support.app import MIGRATIONS
from support.db import SupportUnit
from support.handlers.context import SupportContext

from support_test_helpers import NOW


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
    return SupportContext(
        db=Database(engine, source="support", clock=clock, unit=SupportUnit),
        clock=clock,
        calendar=BusinessCalendar(),
    )
