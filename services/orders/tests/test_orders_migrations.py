"""Replicas start together on a fresh database (a first deployment with two pods): both run
the migrations at start-up, and both must come up."""

import asyncio

import pytest
from sqlalchemy import text

from orders.app import MIGRATIONS
from servicekit.db import make_engine
from servicekit.migrations import heads, upgrade


async def test_replicas_migrating_one_fresh_database_together_both_start(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("one process owns an SQLite file")
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine, MIGRATIONS) for engine in engines))
        async with engines[0].connect() as connection:
            versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
            assert tuple(versions.scalars()) == heads(MIGRATIONS)
    finally:
        for engine in engines:
            await engine.dispose()
