"""What operators look at on the broker: topics and their end offsets, each consumer group's
lag, the events on a topic (decoded), and dead letters with their replay. The `marketplace`
command (`servicekit.operations.cli`) is built on these; the gateway's `/v1/ops/*` endpoints
are meant to be too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import TopicAuthorizationFailedError
from aiokafka.structs import ConsumerRecord

from servicekit.messaging.broker import KafkaSecurity, ensure_topics
from servicekit.messaging.connection import kafka_security_from_environment
from servicekit.operations import topology


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        # Never negative: the embedded broker counts a produced batch as one offset while a
        # consumer commits past every record in it (Apache Kafka counts records).
        return max(0, self.end - (self.committed or 0))


@dataclass(frozen=True)
class DeadLetter:
    id: str  # `<dlq topic>:<partition>:<offset>`
    topic: str
    key: str | None
    reason: str
    error: str
    origin_topic: str
    group: str
    at: str
    event_type: str | None
    value: bytes
    headers: list[tuple[str, bytes]]

    def summary(self) -> dict[str, Any]:
        """What an operator reads in a list of dead letters."""
        return {
            "id": self.id,
            "origin_topic": self.origin_topic,
            "group": self.group,
            "key": self.key,
            "type": self.event_type,
            "reason": self.reason,
            "error": self.error,
            "at": self.at,
        }


def _security(security: KafkaSecurity | None) -> KafkaSecurity:
    """Callers that pass none (the gateway's /v1/ops, the `marketplace` command) connect with
    the credentials of their environment, so an operator's tool on a secured broker is
    authenticated and limited by its own ACLs like any service."""
    return security or kafka_security_from_environment()


def _consumer(
    bootstrap: str, group: str | None = None, security: KafkaSecurity | None = None
) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **_security(security).client_options(),
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def end_offsets(
    bootstrap: str, topics: list[str] | None = None, *, security: KafkaSecurity | None = None
) -> dict[str, list[int]]:
    """Each topic's end offset per partition (every non-internal topic when `topics` is None)."""
    consumer = _consumer(bootstrap, security=security)
    await consumer.start()
    try:
        names = sorted(topics or [t for t in await consumer.topics() if not t.startswith("__")])
        partitions = [
            TopicPartition(name, p)
            for name in names
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        found: dict[str, list[int]] = {name: [] for name in names}
        for tp in partitions:
            found[tp.topic].append(ends[tp])
        return found
    finally:
        await consumer.stop()


async def create_declared_topics(
    bootstrap: str,
    *,
    replication_factor: int | None = None,
    with_config: bool = True,
    path: Path | None = None,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create every topic `deploy/topics.yaml` declares that does not exist yet, dead-letter
    topics included; answer the names created. `replication_factor` overrides the file's
    (a single-broker cluster takes 1, and then `min.insync.replicas` is lowered to match)."""
    specs = topology.load(path or topology.TOPICS_FILE)
    replicas = replication_factor or specs[0].replication_factor
    configs = {
        spec.name: spec.config
        | {"min.insync.replicas": str(min(replicas, int(spec.config["min.insync.replicas"])))}
        for spec in specs
    }
    return await ensure_topics(
        bootstrap,
        {spec.name: spec.partitions for spec in specs},
        replicas,
        configs if with_config else None,
        security=_security(security),
    )


async def lag(
    bootstrap: str, group: str, topics: list[str], *, security: KafkaSecurity | None = None
) -> list[PartitionLag]:
    """How far `group` is behind on each partition of `topics`."""
    consumer = _consumer(bootstrap, group, security)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        return [
            PartitionLag(tp.topic, tp.partition, await consumer.committed(tp), ends[tp])
            for tp in partitions
        ]
    finally:
        await consumer.stop()


def describe(record: ConsumerRecord) -> dict[str, Any]:
    """A record as an operator reads it: the envelope's type, ids and data when it is one."""
    headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
    shown: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode(errors="replace") if record.key else None,
    }
    try:
        envelope = json.loads(record.value)
        shown |= {
            "type": envelope.get("type"),
            "id": envelope.get("id"),
            "time": envelope.get("time"),
            "correlation_id": envelope.get("correlation_id") or headers.get("correlation_id"),
            "data": envelope.get("data"),
        }
    except (ValueError, TypeError):
        shown |= {"type": headers.get("ce_type"), "undecodable": True}
    return shown


async def read(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool = True,
    follow: bool = False,
    idle_ms: int = 500,
    security: KafkaSecurity | None = None,
) -> AsyncIterator[ConsumerRecord]:
    """The records of `topic`; with `follow`, keep waiting for new ones. Without, it ends at
    the first quiet spell of `idle_ms` after reaching the end offsets it found when asked: a
    slow broker cannot cut it short, and the quiet spell covers the embedded broker, which
    reports a partition's end too low after a batch of several records."""
    consumer = _consumer(bootstrap, security=security)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        ends = await consumer.end_offsets(partitions) if partitions else {}
        while True:
            batch = await consumer.getmany(timeout_ms=idle_ms)
            records = sorted(
                (r for rs in batch.values() for r in rs), key=lambda r: (r.timestamp, r.offset)
            )
            for record in records:
                yield record
            if not records and not follow and await _at_ends(consumer, ends):
                return
    finally:
        await consumer.stop()


async def _at_ends(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    return all([await consumer.position(tp) >= end for tp, end in ends.items()])


def _dead_letter(record: ConsumerRecord) -> DeadLetter:
    headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
    return DeadLetter(
        id=f"{record.topic}:{record.partition}:{record.offset}",
        topic=record.topic,
        key=record.key.decode(errors="replace") if record.key else None,
        reason=headers.get("x-dlq-reason", ""),
        error=headers.get("x-dlq-error", ""),
        origin_topic=headers.get("x-dlq-origin-topic", record.topic.split(".")[0] + ".events"),
        group=headers.get("x-dlq-group", ""),
        at=headers.get("x-dlq-at", ""),
        event_type=headers.get("ce_type"),
        value=record.value,
        headers=list(record.headers or ()),
    )


async def dead_letters(
    bootstrap: str, *, security: KafkaSecurity | None = None
) -> list[DeadLetter]:
    """Every dead letter on every `*.dlq` topic, oldest first. Only the topics holding
    records are read: reading one ends with a quiet spell on the broker, and an empty one
    costs as much as a full one (most of a second on the embedded broker, for each of the
    platform's sixteen, nearly all empty)."""
    security = _security(security)
    topics = await _holding_records(bootstrap, security, lambda name: name.endswith(".dlq"))

    async def letters_on(topic: str) -> list[DeadLetter]:
        records = read(bootstrap, topic, idle_ms=300, security=security)
        return [_dead_letter(r) async for r in records]

    found = [
        letter for letters in await asyncio.gather(*map(letters_on, topics)) for letter in letters
    ]
    return sorted(found, key=lambda d: (d.at, d.id))


async def _holding_records(
    bootstrap: str, security: KafkaSecurity, chosen: Callable[[str], bool]
) -> list[str]:
    """The `chosen` topics with a record between their first and end offsets."""
    consumer = _consumer(bootstrap, security=security)
    await consumer.start()
    try:
        names = sorted(t for t in await consumer.topics() if chosen(t))
        partitions = [
            TopicPartition(name, p)
            for name in names
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        if not partitions:
            return []
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        return sorted({tp.topic for tp in partitions if ends[tp] > starts[tp]})
    finally:
        await consumer.stop()


class ReplayRefused(Exception):
    """The broker's ACLs do not let this user write the dead letter's origin topic."""


async def replay(
    bootstrap: str, letter: DeadLetter, *, security: KafkaSecurity | None = None
) -> None:
    """Publish a dead letter again on the topic it came from, as it was (without the
    `x-dlq-*` headers). Consumers deduplicate by event id, so a replay of something that
    was handled meanwhile changes nothing."""
    producer = AIOKafkaProducer(
        **_security(security).client_options(), bootstrap_servers=bootstrap, acks="all"
    )
    await producer.start()
    try:
        headers = [(k, v) for k, v in letter.headers if not k.startswith("x-dlq-")]
        await producer.send_and_wait(
            letter.origin_topic,
            letter.value,
            key=letter.key.encode() if letter.key else None,
            headers=[*headers, ("x-replayed-from", letter.id.encode())],
        )
    except TopicAuthorizationFailedError as error:
        raise ReplayRefused(letter.origin_topic) from error
    finally:
        await producer.stop()
