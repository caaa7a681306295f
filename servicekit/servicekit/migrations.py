"""Alembic, run from code: each service keeps its own `migrations/` folder, applied at
start-up by `upgrade(engine, folder)`. Its target metadata includes the kit's outbox and
inbox, so they are part of each service's own migrations.

A new migration, after changing a service's tables:

    uv run python -m servicekit.migrations services/orders/migrations orders.db "what changed"
"""

from __future__ import annotations

import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.db import kit_metadata


def _config(folder: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(folder))
    return config


async def upgrade(engine: AsyncEngine, folder: Path, revision: str = "head") -> None:
    config = _config(folder)

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together on a fresh database: one migrates, the others wait
            # for its commit and then find nothing to do.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(b"migrations")}
            )
        await connection.run_sync(_run)


def run_env(target_metadata: MetaData | list[MetaData], *, kit_tables: bool = True) -> None:
    """The body of a service's `migrations/env.py`: online migrations on the given connection.
    `kit_tables=False` for a service without an outbox and inbox (the gateway)."""
    from alembic import context

    connection: Connection = context.config.attributes["connection"]
    metadata = target_metadata if isinstance(target_metadata, list) else [target_metadata]
    context.configure(
        connection=connection,
        target_metadata=[kit_metadata, *metadata] if kit_tables else metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def heads(folder: Path) -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(_config(folder)).get_heads())


async def autogenerate(folder: Path, message: str) -> None:
    """Write a migration from the difference between the models and the migrations so far,
    computed on a scratch SQLite database."""
    import tempfile

    from servicekit.db import make_engine

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite+aiosqlite:///{scratch}/scratch.db")
        await upgrade(engine, folder)
        config = _config(folder)

        def _run(connection: Connection) -> None:
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True)

        async with engine.begin() as connection:
            await connection.run_sync(_run)
        await engine.dispose()


if __name__ == "__main__":
    import asyncio
    import importlib
    import sys

    folder_arg, models_module, message_arg = sys.argv[1:4]
    importlib.import_module(models_module)
    asyncio.run(autogenerate(Path(folder_arg), message_arg))
