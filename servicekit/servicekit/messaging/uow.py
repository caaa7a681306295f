"""Unit of work: one database transaction that holds state changes, the events they cause
(outbox rows) and the ids of the events handled (inbox rows). Nothing is published here:
the relay publishes what a committed transaction left in the outbox.

A service subclasses `UnitOfWork` to reach its repositories from the unit, each built once
per unit over the unit's session, and gives the subclass to its `Database`:

    class OrdersUnit(UnitOfWork):
        orders = repository(Orders)

    db = Database(engine, source="orders", clock=clock, unit=OrdersUnit)
    async with db.unit_of_work() as uow:  # an OrdersUnit
        order = await uow.orders.get(order_id)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast, overload

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contracts import Event, envelope_json
from servicekit.domain.clock import Clock
from servicekit.messaging.context import current_correlation_id
from servicekit.messaging.db import inbox, insert_rows, outbox


@dataclass(frozen=True)
class HandledEvent:
    """What the inbox records of an event: enough to recognise it again."""

    event_id: str
    event_type: str
    topic: str


class UnitOfWork:
    """One transaction. `session` stays reachable for the rare raw query; a subclass declares
    its repositories with `repository`."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        source: str,
        clock: Clock,
        correlation_id: str,
        causation_id: str | None,
    ) -> None:
        self.session = session
        self.source = source
        self.clock = clock
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._outgoing: list[dict[str, Any]] = []
        self.committed = False
        self._at_end: list[Callable[[], None]] = []
        self._ended = False

    @property
    def emitted(self) -> int:
        return len(self._outgoing)

    def emit(
        self, event: Event, *, correlation_id: str | None = None, causation_id: str | None = None
    ) -> uuid.UUID:
        """Queue `event` for publication; it is written to the outbox on commit. The
        correlation and causation ids default to those of the event being handled."""
        event_id = uuid.uuid4()
        now = self.clock.now()
        correlation_id = correlation_id or self.correlation_id
        payload = envelope_json(
            event,
            event_id=event_id,
            source=self.source,
            time=now,
            correlation_id=correlation_id,
            causation_id=causation_id or self.causation_id,
        )
        self._outgoing.append(
            {
                "topic": event.topic,
                "message_key": event.subject(),
                "event_id": str(event_id),
                "event_type": event.type,
                "payload": payload,
                "headers": [
                    ["ce_id", str(event_id)],
                    ["ce_type", event.type],
                    ["ce_source", self.source],
                    ["correlation_id", correlation_id],
                ],
                "created_at": now,
            }
        )
        return event_id

    def emit_raw(
        self,
        *,
        topic: str,
        key: str,
        event_id: str,
        event_type: str,
        payload: bytes,
        headers: list[list[str]],
    ) -> None:
        """Queue an already-encoded message (a dead letter, a replay) for the relay."""
        self._outgoing.append(
            {
                "topic": topic,
                "message_key": key,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload,
                "headers": headers,
                "created_at": self.clock.now(),
            }
        )

    def mark(self) -> int:
        """A point to return to with `discard_since` when a savepoint is rolled back."""
        return len(self._outgoing)

    def discard_since(self, mark: int) -> None:
        del self._outgoing[mark:]

    async def claim(self, events: Sequence[HandledEvent]) -> set[str]:
        """Record `events` in the inbox; answer the ids not seen before (the ones to handle)."""
        if not events:
            return set()
        now = self.clock.now()
        rows = [
            {
                "event_id": e.event_id,
                "event_type": e.event_type,
                "topic": e.topic,
                "handled_at": now,
            }
            for e in events
        ]
        # One statement for the whole batch; the duplicates are the ids it did not return.
        inserted = await insert_rows(
            self.session, inbox, rows, ignore_duplicates=True, returning=inbox.c.event_id
        )
        return set(inserted)

    async def commit(self) -> None:
        await self.session.flush()
        if self._outgoing:
            await insert_rows(self.session, outbox, self._outgoing)
        await self.session.commit()
        self.committed = True

    def when_ended(self, callback: Callable[[], None]) -> bool:
        """Call `callback` once this unit is over (committed or not), and answer True; answer
        False (and do not call it) when it is over already."""
        if self._ended:
            return False
        self._at_end.append(callback)
        return True

    def end(self) -> None:
        """The unit is over (committed or not): call what waited for it."""
        self._ended = True
        waiting, self._at_end = self._at_end, []
        for callback in waiting:
            callback()


R = TypeVar("R")
U = TypeVar("U", bound=UnitOfWork)


class repository(Generic[R]):
    """A repository reachable from a unit of work: `orders = repository(Orders)` in a
    `UnitOfWork` subclass makes `uow.orders` an `Orders(uow.session)`, built on first use and
    then kept for the rest of the unit (like `functools.cached_property`)."""

    def __init__(self, build: Callable[[AsyncSession], R]) -> None:
        self.build = build
        self.name = ""

    def __set_name__(self, owner: type[UnitOfWork], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type[UnitOfWork]) -> repository[R]: ...
    @overload
    def __get__(self, uow: UnitOfWork, owner: type[UnitOfWork]) -> R: ...
    def __get__(self, uow: UnitOfWork | None, owner: type[UnitOfWork]) -> repository[R] | R:
        if uow is None:
            return self
        built = self.build(uow.session)
        # No __set__, so from now on the instance's attribute is found before this descriptor.
        uow.__dict__[self.name] = built
        return built


# The unit of work open in this task. A worker woken from inside one (a handler queues a card
# operation or an e-mail and wakes its worker) must be woken when the unit ends: woken before
# the commit, the worker looks for the new work, does not see it yet, and sleeps until its
# next poll. Everything that waits for a unit of work waits this one way: the relay too (see
# `Database`).
_open_unit: ContextVar[UnitOfWork | None] = ContextVar("open_unit_of_work", default=None)


def when_unit_ends(callback: Callable[[], None]) -> bool:
    """Call `callback` once the unit of work open in this task ends, and answer True; answer
    False (and do not call it) when no unit of work is open."""
    uow = _open_unit.get()
    return uow is not None and uow.when_ended(callback)


class Database(Generic[U]):
    """The service's database handle: engine, sessions and units of work.

    `unit` is the `UnitOfWork` subclass that `unit_of_work()` opens (a plain `UnitOfWork`
    when not given). `on_outbox_written` is called when a unit of work whose commit wrote
    outbox rows ends; the relay uses it to publish without waiting for its next poll.
    """

    @overload
    def __init__(
        self: Database[UnitOfWork],
        engine: AsyncEngine,
        *,
        source: str,
        clock: Clock,
        on_outbox_written: Callable[[], None] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        source: str,
        clock: Clock,
        unit: type[U],
        on_outbox_written: Callable[[], None] | None = None,
    ) -> None: ...
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        source: str,
        clock: Clock,
        unit: type[U] | None = None,
        on_outbox_written: Callable[[], None] | None = None,
    ) -> None:
        # Without `unit` the first overload has made this a Database[UnitOfWork].
        self.unit: type[U] = unit if unit is not None else cast("type[U]", UnitOfWork)
        self.engine = engine
        self.source = source
        self.clock = clock
        self.on_outbox_written = on_outbox_written or (lambda: None)
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def unit_of_work(
        self, *, correlation_id: str | None = None, causation_id: str | None = None
    ) -> AsyncIterator[U]:
        async with self.sessions() as session:
            uow = self.unit(
                session,
                source=self.source,
                clock=self.clock,
                correlation_id=correlation_id or current_correlation_id(),
                causation_id=causation_id,
            )
            opened = _open_unit.set(uow)
            try:
                try:
                    yield uow
                except BaseException:
                    await session.rollback()
                    raise
                if not uow.committed:
                    await session.rollback()
                elif uow.emitted:
                    uow.when_ended(self.on_outbox_written)
            finally:
                try:
                    uow.end()
                finally:
                    _open_unit.reset(opened)
