"""Rebuilding a view from the events it was made of (`marketplace replay-projection NAME`).

A service declares a `Projection`: the tables that hold the view, and a router of handlers
that fold events into those tables and nothing else. A rebuild, in one transaction:

1. pauses the service's consumer (an exclusive advisory lock that every consumed batch
   takes shared; on SQLite the single writer does the same),
2. reads the projection's topics from the beginning, keeping exactly the events the inbox
   says the service has handled (so the view is rebuilt to where the live one stands),
3. refuses, changing nothing, if any of those events is no longer on the topics
   (retention removed it: a rebuild would silently lose history),
4. empties the tables, folds the events in in their original order, runs the projection's
   `after` step (such as re-evaluating what depends on the view), and commits.

Services register projections under the `marketplace.projections` entry-point group, each a
function of no arguments that builds the projection from the service's settings; the command
runs inside the service's image (`kubectl exec deploy/<service> -- marketplace ...`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

import structlog
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Table, delete, func, select

from servicekit.messaging.consumer import BatchProcessor, hold_consumer_lock
from servicekit.messaging.db import inbox
from servicekit.messaging.events import EventRouter, Received
from servicekit.messaging.uow import Database, UnitOfWork
from servicekit.operations import ops

log = structlog.get_logger(__name__)
ENTRY_POINTS = "marketplace.projections"
U = TypeVar("U", bound=UnitOfWork)


@dataclass
class Projection(Generic[U]):
    name: str
    group: str  # the consumer group whose handled events the view reflects
    tables: Sequence[Table]  # emptied, then refilled
    router: EventRouter[U]  # folds events into `tables`; writes nothing else
    db: Database[U]
    bootstrap: str
    after: Callable[[U], Awaitable[Any]] | None = None
    description: str = ""


@dataclass
class Rebuilt:
    name: str
    events: int = 0
    rows_before: dict[str, int] = field(default_factory=dict)
    rows_after: dict[str, int] = field(default_factory=dict)


class HistoryIncomplete(Exception):
    """The topics no longer hold every event the view was built from."""


async def _records(bootstrap: str, topics: list[str]) -> list[ConsumerRecord]:
    records = [record for topic in topics async for record in ops.read(bootstrap, topic)]
    return sorted(records, key=lambda r: (r.timestamp, r.topic, r.partition, r.offset))


async def _count(uow: UnitOfWork, tables: Sequence[Table]) -> dict[str, int]:
    return {
        table.name: (
            await uow.session.execute(select(func.count()).select_from(table))
        ).scalar_one()
        for table in tables
    }


async def rebuild(projection: Projection[U]) -> Rebuilt:
    router = projection.router
    decoder = BatchProcessor(projection.db, router, group=projection.group)
    result = Rebuilt(projection.name)
    async with projection.db.unit_of_work() as uow:
        await hold_consumer_lock(uow, projection.group, exclusive=True)
        handled_rows = await uow.session.execute(
            select(inbox.c.event_id).where(
                inbox.c.event_type.in_([event.type for event in router.event_types])
            )
        )
        handled = set(handled_rows.scalars())
        events: list[Received[Any]] = []
        for record in await _records(projection.bootstrap, router.topics):
            item = decoder.decode(record)
            if isinstance(item, Received) and item.event_id in handled:
                handled.discard(item.event_id)  # a redelivered copy is folded once
                events.append(item)
        if handled:
            raise HistoryIncomplete(
                f"{len(handled)} handled event(s) are no longer on {', '.join(router.topics)} "
                "(retention removed them); rebuilding would lose them, so nothing was changed"
            )
        result.rows_before = await _count(uow, projection.tables)
        for table in projection.tables:
            await uow.session.execute(delete(table))
        for item in events:
            route = router.route(item.envelope.type)
            assert route is not None  # decode() lets only routed types through
            await route.handle([item], uow)
        uow.discard_since(0)  # folding publishes nothing: those events went out long ago
        if projection.after is not None:
            await projection.after(uow)
        result.rows_after = await _count(uow, projection.tables)
        result.events = len(events)
        await uow.commit()
    log.info("projection rebuilt", projection=projection.name, events=result.events)
    return result


def registered() -> dict[str, Callable[[], Projection[Any]]]:
    """The projections of the services installed here, by name (each of its own service's
    unit of work)."""
    return {entry.name: entry.load() for entry in entry_points(group=ENTRY_POINTS)}
