import asyncio
import json
import uuid
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from contracts import encode_envelope
from contracts.orders import OrderPlaced
from contracts.topics import TOPIC_OWNERS
from servicekit.messaging.broker import make_broker
from servicekit.messaging.consumer import BatchProcessor, EventRouter, subscribe
from servicekit.messaging.relay import OutboxRelay, make_producer
from servicekit.testing import eventually, headers_of, produce, read_topic

from kit_helpers import NOW, handled_orders, placed


def envelope_bytes(event, event_id=None):
    event_id = event_id or uuid.uuid4()
    body = encode_envelope(
        event, event_id=event_id, source="test", time=NOW, correlation_id="corr", causation_id=None
    )
    return str(event_id), json.dumps(body).encode()


def message(event, event_id=None):
    event_id, value = envelope_bytes(event, event_id)
    return (event.order_id, value, {"ce_id": event_id, "ce_type": event.type})


@asynccontextmanager
async def consuming(db, kafka_bootstrap, topic, group, handler, attempts=3):
    router = EventRouter()
    router.add(OrderPlaced, handler)
    broker = make_broker(kafka_bootstrap, service_name="kit-test")
    processor = BatchProcessor(
        db, router, group=group, handler_attempts=attempts, max_backoff_seconds=0.2
    )
    # A short session: the embedded broker answers a new group's first member after half of
    # it, and each test starts a new group.
    subscribe(broker, processor, batch_size=100, topics=[topic], session_timeout_ms=3000)
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(db.engine, producer, poll_seconds=0.1)
    await relay.start()
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()
        await relay.stop()
        await producer.stop()


async def record_order(received, uow):
    await uow.session.execute(
        insert(handled_orders).values(event_id=received.event_id, order_id=received.event.order_id)
    )


async def handled(engine):
    async with engine.connect() as connection:
        rows = (await connection.execute(select(handled_orders.c.order_id))).all()
    return sorted(row.order_id for row in rows)


async def test_a_redelivered_event_is_handled_once(db, engine, kafka_bootstrap, topic, group):
    same_id = uuid.uuid4()
    messages = [
        message(placed("o1"), same_id),
        message(placed("o2")),
        message(placed("o1"), same_id),
    ]
    await produce(kafka_bootstrap, topic, messages)
    async with consuming(db, kafka_bootstrap, topic, group, record_order):
        await eventually(lambda: _count_at_least(engine, 2))
        await produce(
            kafka_bootstrap, topic, [message(placed("o1"), same_id), message(placed("o3"))]
        )
        await eventually(lambda: _count_at_least(engine, 3))
    assert await handled(engine) == ["o1", "o2", "o3"]


async def test_two_copies_of_an_event_in_one_batch_are_handled_once(
    db, engine, kafka_bootstrap, topic, group
):
    calls = []

    async def count_calls(received, uow):  # a handler that would happily run twice
        calls.append(received.event_id)

    same_id = uuid.uuid4()
    copies = [message(placed("o1"), same_id), message(placed("o1"), same_id)]
    await produce(kafka_bootstrap, topic, [*copies, message(placed("o2"))])
    async with consuming(db, kafka_bootstrap, topic, group, count_calls):
        await eventually(lambda: _calls_at_least(calls, 2))
        await asyncio.sleep(1)  # time for a wrongly repeated call to show
    assert calls.count(str(same_id)) == 1
    assert len(calls) == 2


async def _calls_at_least(calls, n):
    return len(calls) >= n


async def _count_at_least(engine, n):
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(handled_orders)) >= n


async def test_invalid_messages_are_dead_lettered_with_the_reason_and_the_partition_flows(
    db, engine, kafka_bootstrap, topic, group
):
    _, good = envelope_bytes(placed("o1"))
    schema_invalid = json.loads(envelope_bytes(placed("o2"))[1])
    schema_invalid["data"]["quantity"] = "many"
    messages = [
        ("o1", b"{not json", {"ce_type": OrderPlaced.type}),
        ("o1", json.dumps(schema_invalid).encode(), {"ce_type": OrderPlaced.type}),
        ("o1", good, {"ce_type": OrderPlaced.type}),
    ]
    await produce(kafka_bootstrap, topic, messages)
    async with consuming(db, kafka_bootstrap, topic, group, record_order):
        await eventually(lambda: _count_at_least(engine, 1))
        dead = await read_topic(kafka_bootstrap, f"{topic}.{group}.dlq", expect=2)

    assert await handled(engine) == ["o1"]
    assert [d.value for d in dead] == [b"{not json", json.dumps(schema_invalid).encode()]
    first, second = (headers_of(d) for d in dead)
    assert first["x-dlq-reason"] == "invalid_message"
    assert "not a valid event envelope" in first["x-dlq-error"]
    assert "does not match its schema" in second["x-dlq-error"]
    assert first["x-dlq-origin-topic"] == topic
    assert first["x-dlq-group"] == group
    assert first["x-dlq-origin-offset"] != second["x-dlq-origin-offset"]
    assert dead[0].key == b"o1"


async def test_a_handler_that_keeps_failing_is_dead_lettered_and_its_batch_goes_on(
    db, engine, kafka_bootstrap, topic, group
):
    calls = []

    async def fails_on_o2(received, uow):
        calls.append(received.event.order_id)
        if received.event.order_id == "o2":
            raise ValueError("a bug in the handler")
        await record_order(received, uow)

    await produce(kafka_bootstrap, topic, [message(placed(o)) for o in ("o1", "o2", "o3")])
    async with consuming(db, kafka_bootstrap, topic, group, fails_on_o2, attempts=3):
        await eventually(lambda: _count_at_least(engine, 2))
        dead = await read_topic(kafka_bootstrap, f"{topic}.{group}.dlq", expect=1)

    assert await handled(engine) == ["o1", "o3"]
    assert len(dead) == 1
    headers = headers_of(dead[0])
    assert headers["x-dlq-reason"] == "handler_failed"
    assert headers["x-dlq-attempts"] == "3"
    assert "a bug in the handler" in headers["x-dlq-error"]
    assert calls.count("o2") >= 3


async def test_a_database_failure_retries_the_batch_and_loses_nothing(
    db, engine, kafka_bootstrap, topic, group
):
    failures = iter([True, True])

    async def database_down_twice(received, uow):
        if next(failures, False):
            raise OperationalError("INSERT", {}, ConnectionRefusedError("database down"))
        await record_order(received, uow)

    await produce(kafka_bootstrap, topic, [message(placed(o)) for o in ("o1", "o2")])
    async with consuming(db, kafka_bootstrap, topic, group, database_down_twice):
        await eventually(lambda: _count_at_least(engine, 2))
        dead = await read_topic(kafka_bootstrap, f"{topic}.{group}.dlq", expect=0, timeout=1)

    assert await handled(engine) == ["o1", "o2"]
    assert dead == []


@pytest.mark.parametrize("unknown_type", ["marketplace.order.gift_wrapped.v1"])
async def test_event_types_without_a_handler_are_skipped(
    db, engine, kafka_bootstrap, topic, group, unknown_type
):
    other = envelope_bytes(placed("o9"))[1].replace(
        OrderPlaced.type.encode(), unknown_type.encode()
    )
    await produce(
        kafka_bootstrap, topic, [("o9", other, {"ce_type": unknown_type}), message(placed("o1"))]
    )
    async with consuming(db, kafka_bootstrap, topic, group, record_order):
        await eventually(lambda: _count_at_least(engine, 1))
        dead = await read_topic(kafka_bootstrap, f"{topic}.{group}.dlq", expect=0, timeout=1)
    assert await handled(engine) == ["o1"]
    assert dead == []


async def test_an_event_from_a_source_that_does_not_own_the_topic_is_dead_lettered(
    db, engine, kafka_bootstrap, topic, group, monkeypatch
):
    # The test topic stands for orders.events: only `orders` may publish on it.
    monkeypatch.setitem(TOPIC_OWNERS, topic, "orders")

    def from_source(order_id, source):
        event = placed(order_id)
        event_id = uuid.uuid4()
        body = encode_envelope(
            event, event_id=event_id, source=source, time=NOW, correlation_id="c", causation_id=None
        )
        return (
            order_id,
            json.dumps(body).encode(),
            {"ce_id": str(event_id), "ce_type": event.type},
        )

    forged = from_source("o2", "payments")
    await produce(
        kafka_bootstrap,
        topic,
        [from_source("o1", "orders"), forged, from_source("o3", "orders")],
    )
    async with consuming(db, kafka_bootstrap, topic, group, record_order):
        await eventually(lambda: _count_at_least(engine, 2))
        dead = await read_topic(kafka_bootstrap, f"{topic}.{group}.dlq", expect=1)

    assert await handled(engine) == ["o1", "o3"]
    assert [d.value for d in dead] == [forged[1]]
    headers = headers_of(dead[0])
    assert headers["x-dlq-reason"] == "invalid_message"
    assert "'payments'" in headers["x-dlq-error"] and "'orders'" in headers["x-dlq-error"]
    assert headers["x-dlq-origin-topic"] == topic
