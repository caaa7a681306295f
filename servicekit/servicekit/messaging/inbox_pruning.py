"""Pruning the inbox: an event id is remembered only as long as the event can come back.

The inbox keeps the id of every event a service handled, so that a redelivered copy is
skipped. An event can come back while its topic still holds it (its retention) and while a
dead letter of it can be replayed (the group's dead-letter topic's retention); after both,
its row only grows the table, and it makes `replay-projection` refuse: the rebuild reads the
inbox to know which events the view was built from, finds one the topic no longer holds, and
stops rather than lose it. So each row is deleted once it is older than how long its topic
`keep`s it (`operations.topology.inbox_keep`, from `deploy/topics.yaml`); a topic kept for ever
(retention -1), or one the topology does not name, keeps its rows for ever.

`InboxPruner` is a timer job (`ServiceRuntime.consume` registers it as `prune-inbox`): it runs
at most once per `every` on the service's clock, deleting up to `batch_size` rows a round, and
goes on at once while there is more (a full round). Without an index on `handled_at` each round
scans the inbox from its oldest rows, which is where the rows to delete are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.messaging.db import inbox

log = structlog.get_logger(__name__)


class InboxPruner:
    def __init__(
        self,
        engine: AsyncEngine,
        keep: Mapping[str, timedelta | None],
        *,
        every: timedelta = timedelta(hours=1),
        batch_size: int = 5000,
    ) -> None:
        self.engine = engine
        # Only topics with a finite keep are ever pruned.
        self.keep = {topic: kept for topic, kept in keep.items() if kept is not None}
        self.every = every
        self.batch_size = batch_size
        self._next_run: datetime | None = None

    async def __call__(self, now: datetime) -> int:
        """The timer job: how many rows it deleted (0 when it is not yet time)."""
        if self._next_run is not None and now < self._next_run:
            return 0
        deleted = await self.prune(now)
        if deleted < self.batch_size:  # all done: next time in `every`
            self._next_run = now + self.every
        return deleted

    async def prune(self, now: datetime) -> int:
        """Delete up to `batch_size` rows older than their topic's keep at `now`."""
        deleted = 0
        async with self.engine.begin() as connection:
            for topic, kept in sorted(self.keep.items()):
                left = self.batch_size - deleted
                if left <= 0:
                    break
                expired = (
                    select(inbox.c.event_id)
                    .where(inbox.c.topic == topic, inbox.c.handled_at < now - kept)
                    .limit(left)
                )
                result = await connection.execute(
                    delete(inbox).where(inbox.c.event_id.in_(expired))
                )
                deleted += cast(CursorResult[Any], result).rowcount
        if deleted:
            log.info("inbox pruned", rows=deleted)
        return deleted
