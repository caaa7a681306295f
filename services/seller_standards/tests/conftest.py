import pytest

from seller_standards.app import MIGRATIONS
from seller_standards.db import StandardsUnit
from seller_standards.domain.policy import Policy
from seller_standards.handlers import StandardsContext
from servicekit.domain.clock import ManualClock
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database

from standards_test_helpers import NOW


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
    return StandardsContext(
        db=Database(engine, source="seller_standards", clock=clock, unit=StandardsUnit),
        clock=clock,
        policy=Policy(),
    )
