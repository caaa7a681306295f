"""Replicas start together on a fresh database (a first deployment with two pods): both run
the migrations at start-up, and both must come up."""

import asyncio

import pytest
from sqlalchemy import text

from devstack.pytest_plugin import drop_postgres_database, fresh_postgres_database
from orders.app import MIGRATIONS
from servicekit.messaging.db import make_engine
from servicekit.messaging.migrations import heads, upgrade


@pytest.fixture
def fresh_postgres(postgres_server):
    """Only PostgreSQL: an SQLite file belongs to one process."""
    if postgres_server is None:
        pytest.skip("no PostgreSQL answers")
    url, name = fresh_postgres_database(postgres_server)
    yield url
    drop_postgres_database(postgres_server, name)


async def test_replicas_migrating_one_fresh_database_together_all_start(fresh_postgres):
    engines = [make_engine(fresh_postgres) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine, MIGRATIONS) for engine in engines))
        async with engines[0].connect() as connection:
            versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
            assert tuple(versions.scalars()) == heads(MIGRATIONS)
    finally:
        for engine in engines:
            await engine.dispose()
