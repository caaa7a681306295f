"""Alembic, run from code: each service keeps its own `migrations/` folder and calls
`upgrade(engine, folder)` at start-up. The kit's own tables are created by
`create_kit_tables`, called from each service's first migration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
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
        await connection.run_sync(_run)


def run_env(target_metadata: MetaData | list[MetaData]) -> None:
    """The body of a service's `migrations/env.py`: online migrations on the given connection."""
    from alembic import context

    connection: Connection = context.config.attributes["connection"]
    metadata = target_metadata if isinstance(target_metadata, list) else [target_metadata]
    context.configure(
        connection=connection,
        target_metadata=[kit_metadata, *metadata],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def create_kit_tables(op: Any) -> None:
    """Create the outbox and inbox tables from a service's first migration."""
    bind = op.get_bind()
    kit_metadata.create_all(bind, checkfirst=True)


def heads(folder: Path) -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(_config(folder)).get_heads())


__all__ = ["EnvironmentContext", "create_kit_tables", "heads", "run_env", "upgrade"]
