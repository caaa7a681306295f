import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.domain.clock import ManualClock
from servicekit.messaging.broker import ensure_topics
from servicekit.messaging.db import kit_metadata, make_engine
from servicekit.messaging.uow import Database

from kit_helpers import NOW, test_metadata


@pytest.fixture
def clock():
    return ManualClock(NOW)


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(kit_metadata.create_all)
        await connection.run_sync(test_metadata.create_all)


@pytest.fixture
async def engine(migrated_database):
    engine = make_engine(await migrated_database(create_tables))
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
