"""One active holder per database: a PostgreSQL session advisory lock held on its own
connection. Several replicas may run a loop guarded by it (the outbox relay, payments' card
operations); only the holder works, and another takes over when the holder's connection dies.
On SQLite one process owns the file, so the lock is always held."""

from __future__ import annotations

import zlib
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger(__name__)


class ExclusiveLock:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._key = zlib.crc32(name.encode())
        self._connection: AsyncConnection | None = None

    async def held(self) -> bool:
        """True if this process holds the lock (taking it if it is free)."""
        if self.engine.dialect.name != "postgresql":
            return True
        if self._connection is None:
            connection = await self.engine.connect()
            acquired: Any = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
            await connection.commit()
            if not acquired:
                await connection.close()
                return False
            self._connection = connection
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # Invalidate rather than return to the pool: a pooled connection would keep
            # holding the session-level advisory lock.
            try:
                await connection.invalidate()
                await connection.close()
            except Exception as error:  # the connection may be the thing that failed
                log.debug("closing a lock connection failed", lock=self.name, error=repr(error))
