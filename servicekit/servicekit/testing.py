"""Helpers for tests that talk to a real broker: read a topic, wait for a condition."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from contracts import Envelope, Event, envelope_json
from servicekit.messaging.connection import kafka_security_from_environment
from servicekit.messaging.events import Received


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Every record on `topic` from the beginning, once at least `expect` have arrived
    (or the timeout passed: the caller asserts on what came)."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_security_from_environment().client_options(),
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
        # a short grace period shows duplicates that arrive just after the expected ones
        batch = await consumer.getmany(timeout_ms=300)
        for partition_records in batch.values():
            records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


def headers_of(record: ConsumerRecord) -> dict[str, str]:
    return {key: value.decode() for key, value in record.headers or ()}


def body_of(record: ConsumerRecord) -> dict[str, Any]:
    return json.loads(record.value)


async def produce(
    bootstrap: str, topic: str, messages: list[tuple[str, bytes, dict[str, str]]]
) -> None:
    """Publish `(key, value, headers)` messages directly, bypassing any outbox."""
    producer = AIOKafkaProducer(
        **kafka_security_from_environment().client_options(),
        bootstrap_servers=bootstrap,
        acks="all",
    )
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send(
                topic,
                value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0, interval: float = 0.1
) -> Any:
    """Poll `check` until it returns something truthy; fail with its last answer."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last answer: {last!r}")


async def publish(
    bootstrap: str, event: Event, *, source: str, time: datetime, times: int = 1
) -> None:
    """Publish `event` on its topic as service `source` would (an envelope keyed by its
    subject), `times` times with the same event id, as a redelivery would."""
    event_id = uuid.uuid4()
    value = envelope_json(
        event,
        event_id=event_id,
        source=source,
        time=time,
        correlation_id=f"corr-{event_id}",
        causation_id=None,
    )
    headers = {"ce_id": str(event_id), "ce_type": event.type, "ce_source": source}
    await produce(bootstrap, event.topic, [(event.subject(), value, headers)] * times)


def received(
    event: Event, *, source: str, time: datetime, correlation_id: str = "corr-test"
) -> Received[Any]:
    """`event` as the consumer hands it to a handler (typed payload, envelope, record), for
    tests that call a handler directly."""
    event_id = uuid.uuid4()
    value = envelope_json(
        event,
        event_id=event_id,
        source=source,
        time=time,
        correlation_id=correlation_id,
        causation_id=None,
    )
    record = ConsumerRecord(
        topic=event.topic,
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=event.subject().encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(event.subject()),
        serialized_value_size=len(value),
        headers=[("ce_id", str(event_id).encode()), ("ce_type", event.type.encode())],
    )
    envelope = Envelope[type(event)].model_validate_json(value)  # type: ignore[misc]
    return Received(event=event, envelope=envelope, record=record, event_id=str(event_id))
