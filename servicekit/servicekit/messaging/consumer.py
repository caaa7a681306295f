"""Consuming events in batches: decode, skip duplicates, handle, dead-letter, commit.

One batch from Kafka is handled in one database transaction (inbox claims, state changes,
outgoing events, dead letters) and only then are the offsets committed. That is what makes
the service both correct (nothing acknowledged before it is durable) and fast (one commit
per few hundred events instead of one per event).

If a handler raises, the batch is handled again one event at a time, each in its own
savepoint, so that only the poison event is dead-lettered and the rest go through.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from sqlalchemy import text

from contracts import RawEnvelope
from contracts.topics import source_fault
from servicekit.messaging import failpoints, metrics
from servicekit.messaging.events import EventRouter, Received
from servicekit.messaging.failures import (
    InvalidMessage,
    dead_letter_headers,
    dlq_topic_for,
    is_transient,
)
from servicekit.messaging.uow import Database, HandledEvent, UnitOfWork

log = structlog.get_logger(__name__)
U = TypeVar("U", bound=UnitOfWork)


@dataclass(frozen=True)
class _Poison:
    record: ConsumerRecord
    error: str


def consumer_lock_key(group: str) -> int:
    return zlib.crc32(f"consumer:{group}".encode())


async def hold_consumer_lock(uow: UnitOfWork, group: str, *, exclusive: bool = False) -> None:
    """Every consumed batch holds the group's lock shared for its transaction, so that a
    projection rebuild (`servicekit.operations.projections`), holding it exclusive, pauses the
    consumer. SQLite has one writer at a time anyway."""
    if uow.session.bind.dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await uow.session.execute(text(f"SELECT {function}(:key)"), {"key": consumer_lock_key(group)})


def _header(record: ConsumerRecord, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode("utf-8", "replace")
    return None


class BatchProcessor(Generic[U]):
    def __init__(
        self,
        db: Database[U],
        router: EventRouter[U],
        *,
        group: str,
        handler_attempts: int = 3,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self.db = db
        self.router = router
        self.group = group
        self.handler_attempts = handler_attempts
        self.max_backoff_seconds = max_backoff_seconds

    def decode(self, record: ConsumerRecord) -> Received[Any] | _Poison | None:
        """The typed event, a poison marker, or None for event types this service ignores.

        The `ce_type` header routes the record before its body is read; the body is then
        parsed and validated in one step against the envelope of that type."""
        type_name = _header(record, "ce_type")
        try:
            if type_name is None:  # a producer that does not set headers: read the body
                type_name = RawEnvelope.model_validate_json(record.value or b"").type
            route = self.router.route(type_name)
            if route is None:
                return None
            envelope = route.envelope_model.model_validate_json(record.value or b"")
            if envelope.type != type_name:
                raise InvalidMessage(f"ce_type {type_name} but the body says {envelope.type}")
            if fault := source_fault(record.topic, envelope.source):
                raise InvalidMessage(fault)
        except ValidationError as error:
            return _Poison(record, _describe(type_name, error))
        except InvalidMessage as error:
            return _Poison(record, str(error))
        return Received(
            event=envelope.data, envelope=envelope, record=record, event_id=str(envelope.id)
        )

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        items = _first_of_each(item for item in map(self.decode, records) if item is not None)
        metrics.EVENTS_CONSUMED.labels(self.group, "ignored").inc(len(records) - len(items))
        if not items:
            return
        started = time.perf_counter()
        attempt = 0
        while True:
            try:
                await self._handle_batch(items)
                metrics.BATCH_SECONDS.labels(self.group).observe(time.perf_counter() - started)
                await failpoints.reached("consumer.after_commit", _types(items))
                return
            except Exception as error:
                if not is_transient(error):
                    raise
                attempt += 1
                delay = min(self.max_backoff_seconds, 0.05 * 2**attempt)
                metrics.BATCH_RETRIES.labels(self.group).inc()
                log.warning(
                    "batch failed on infrastructure, retrying",
                    attempt=attempt,
                    delay=delay,
                    error=repr(error),
                )
                await asyncio.sleep(delay)

    async def _handle_batch(self, items: list[Received[Any] | _Poison]) -> None:
        try:
            await self._handle_together(items)
        except Exception as error:
            if is_transient(error):
                raise
            log.warning(
                "a handler failed; handling the batch one event at a time", error=repr(error)
            )
            await self._handle_one_by_one(items)

    async def _handle_together(self, items: list[Received[Any] | _Poison]) -> None:
        received = [item for item in items if isinstance(item, Received)]
        async with self.db.unit_of_work() as uow:
            await hold_consumer_lock(uow, self.group)
            new_ids = await uow.claim([self._inbox_entry(item) for item in received])
            for item in items:
                if isinstance(item, _Poison):
                    self._dead_letter(uow, item.record, "invalid_message", item.error, 1)
            new = [item for item in received if item.event_id in new_ids]
            for run in _runs_of_one_type(new):
                await self._call(run, uow)
            if await failpoints.reached("consumer.before_commit", _types(items)) == "drop":
                return  # acknowledged without committing: the suite's negative control
            await uow.commit()
        self._count(items, new_ids)

    async def _handle_one_by_one(self, items: list[Received[Any] | _Poison]) -> None:
        new_ids: set[str] = set()
        failed = 0
        async with self.db.unit_of_work() as uow:
            await hold_consumer_lock(uow, self.group)
            for item in items:
                if isinstance(item, _Poison):
                    self._dead_letter(uow, item.record, "invalid_message", item.error, 1)
                    continue
                for attempt in range(1, self.handler_attempts + 1):
                    mark = uow.mark()
                    try:
                        async with uow.session.begin_nested():
                            if await uow.claim([self._inbox_entry(item)]):
                                await self._call([item], uow)
                                new_ids.add(item.event_id)
                        break
                    except Exception as error:
                        uow.discard_since(mark)
                        if is_transient(error):
                            raise
                        if attempt == self.handler_attempts:
                            log.error(
                                "handler failed; event dead-lettered",
                                event_id=item.event_id,
                                event_type=item.envelope.type,
                                error=repr(error),
                            )
                            self._dead_letter(
                                uow, item.record, "handler_failed", repr(error), attempt
                            )
                            failed += 1
            if await failpoints.reached("consumer.before_commit", _types(items)) == "drop":
                return
            await uow.commit()
        self._count(items, new_ids, failed)

    async def _call(self, run: list[Received[Any]], uow: U) -> None:
        event_type = run[0].envelope.type
        await failpoints.reached("consumer.handling", [event_type])
        route = self.router.route(event_type)
        assert route is not None  # decode() let only routed types through
        with metrics.HANDLER_SECONDS.labels(self.group, event_type).time():
            await route.handle(run, uow)

    def _inbox_entry(self, item: Received[Any]) -> HandledEvent:
        return HandledEvent(item.event_id, item.envelope.type, item.record.topic)

    def _dead_letter(
        self, uow: UnitOfWork, record: ConsumerRecord, reason: str, error: str, attempts: int
    ) -> None:
        key = record.key.decode("utf-8", "replace") if record.key else ""
        position = f"{record.topic}:{record.partition}:{record.offset}"
        uow.emit_raw(
            topic=dlq_topic_for(record, self.group),
            key=key,
            event_id=_header(record, "ce_id") or position,
            event_type=_header(record, "ce_type") or "unknown",
            payload=record.value or b"",
            headers=dead_letter_headers(
                record,
                group=self.group,
                reason=reason,
                error=error,
                attempts=attempts,
                at=uow.clock.now(),
            ),
        )

    def _count(
        self, items: list[Received[Any] | _Poison], handled: set[str], failed: int = 0
    ) -> None:
        poison = sum(isinstance(item, _Poison) for item in items)
        received = len(items) - poison
        counter = metrics.EVENTS_CONSUMED
        counter.labels(self.group, "handled").inc(len(handled))
        counter.labels(self.group, "dead_lettered").inc(poison + failed)
        counter.labels(self.group, "duplicate").inc(received - len(handled) - failed)


def _first_of_each(
    items: Iterable[Received[Any] | _Poison],
) -> list[Received[Any] | _Poison]:
    """The batch without repeats of an event id (a relay that published twice can put both
    copies in one batch; the inbox only sees across batches)."""
    seen: set[str] = set()
    kept: list[Received[Any] | _Poison] = []
    for item in items:
        if isinstance(item, Received):
            if item.event_id in seen:
                continue
            seen.add(item.event_id)
        kept.append(item)
    return kept


def _types(items: list[Received[Any] | _Poison]) -> Iterator[str]:
    """Lazily: read only when a failpoint is armed for an event type."""
    return (item.envelope.type for item in items if isinstance(item, Received))


def _describe(type_name: str | None, error: ValidationError) -> str:
    in_data = all(e["loc"][:1] == ("data",) for e in error.errors())
    if type_name and in_data:
        return f"{type_name} does not match its schema: {error}"
    return f"not a valid event envelope: {error}"


def _runs_of_one_type(items: list[Received[Any]]) -> list[list[Received[Any]]]:
    """Consecutive events of the same type, in order: [A, A, B, A] -> [[A, A], [B], [A]]."""
    runs: list[list[Received[Any]]] = []
    for item in items:
        if runs and runs[-1][0].envelope.type == item.envelope.type:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


async def _raw_body(message: KafkaMessage) -> bytes:
    """Leave bodies undecoded: the processor decodes each record itself."""
    return message.body


def subscribe(
    broker: KafkaBroker,
    processor: BatchProcessor[U],
    *,
    batch_size: int,
    topics: Sequence[str] | None = None,
    session_timeout_ms: int = 10000,
    fetch_max_wait_ms: int = 500,
) -> None:
    """Attach `processor` to `broker` as one batch consumer of `topics` (default: the
    topics the router's event types are published on), committing only after each batch."""
    topics = list(topics or processor.router.topics)

    @broker.subscriber(
        *topics,
        batch=True,
        max_records=batch_size,
        group_id=processor.group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_body,
        batch_timeout_ms=200,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(500, session_timeout_ms // 3),
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    async def consume(body: list[Any], message: KafkaMessage) -> None:
        await processor.process(message.raw_message)
