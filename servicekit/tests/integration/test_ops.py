"""The operator's view of the broker, on the real broker: topics and end offsets, a
consumer group's lag, events decoded by `marketplace tail`, and dead letters listed and
replayed onto the topic they came from."""

import asyncio
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import envelope_json
from servicekit.messaging.broker import ensure_topics
from servicekit.operations import cli, ops
from servicekit.testing import produce, read_topic

from kit_helpers import placed


def envelope(order_id: str) -> bytes:
    return envelope_json(
        placed(order_id),
        event_id=uuid.uuid4(),
        source="orders",
        time=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        correlation_id=f"corr-{order_id}",
        causation_id=None,
    )


async def produce_each(bootstrap: str, topic: str, keys: list[str]) -> None:
    """One producer, one message per request, as the relay publishes."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key in keys:
            await producer.send_and_wait(topic, envelope(key), key=key.encode())
    finally:
        await producer.stop()


async def fresh_topic(bootstrap: str, partitions: int = 2) -> str:
    name = f"ops-{uuid.uuid4().hex[:8]}.events"
    await ensure_topics(bootstrap, {name: partitions})
    return name


async def test_topics_show_their_partitions_and_end_offsets(kafka_bootstrap):
    topic = await fresh_topic(kafka_bootstrap)
    await produce_each(kafka_bootstrap, topic, [f"ord_{i}" for i in range(5)])
    ends = (await ops.end_offsets(kafka_bootstrap, [topic]))[topic]
    assert len(ends) == 2 and sum(ends) == 5


async def test_lag_is_what_a_group_has_not_committed_yet(kafka_bootstrap):
    topic = await fresh_topic(kafka_bootstrap, partitions=1)
    await produce_each(kafka_bootstrap, topic, ["ord_1"] * 4)
    group = f"ops-group-{uuid.uuid4().hex[:6]}"
    assert [r.lag for r in await ops.lag(kafka_bootstrap, group, [topic])] == [4]

    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 3})
    finally:
        await consumer.stop()
    [row] = await ops.lag(kafka_bootstrap, group, [topic])
    assert (row.committed, row.end, row.lag) == (3, 4, 1)


async def test_dead_letters_are_listed_and_replayed_without_their_dlq_headers(kafka_bootstrap):
    origin = await fresh_topic(kafka_bootstrap, partitions=1)
    dlq = f"{origin}.payments.dlq"
    await ensure_topics(kafka_bootstrap, {dlq: 1})
    body = envelope("ord_dead")
    await produce(
        kafka_bootstrap,
        dlq,
        [
            (
                "ord_dead",
                body,
                {
                    "ce_type": "marketplace.order.placed.v1",
                    "x-dlq-reason": "handler_failed",
                    "x-dlq-error": "ValueError('a bug')",
                    "x-dlq-origin-topic": origin,
                    "x-dlq-group": "payments",
                    "x-dlq-at": "2026-11-24T10:00:00+00:00",
                },
            )
        ],
    )
    letters = [d for d in await ops.dead_letters(kafka_bootstrap) if d.topic == dlq]
    assert [(d.id, d.reason, d.origin_topic, d.key) for d in letters] == [
        (f"{dlq}:0:0", "handler_failed", origin, "ord_dead")
    ]

    await ops.replay(kafka_bootstrap, letters[0])
    [again] = await read_topic(kafka_bootstrap, origin, expect=1, timeout=10)
    headers = dict(again.headers)
    assert again.value == body and again.key == b"ord_dead"
    assert not any(name.startswith("x-dlq-") for name in headers)
    assert headers["x-replayed-from"] == f"{dlq}:0:0".encode()


def test_marketplace_tail_shows_one_orders_events_decoded(kafka_bootstrap, capsys):
    topic = asyncio.run(fresh_topic(kafka_bootstrap))
    asyncio.run(
        produce(kafka_bootstrap, topic, [(o, envelope(o), {}) for o in ("ord_a", "ord_b", "ord_a")])
    )
    assert cli.main(["--bootstrap", kafka_bootstrap, "tail", topic, "--order", "ord_a"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert all("marketplace.order.placed.v1" in line and "corr-ord_a" in line for line in lines)

    assert cli.main(["--bootstrap", kafka_bootstrap, "topics"]) == 0
    assert topic in capsys.readouterr().out


def test_marketplace_create_topics_creates_what_the_file_declares_once(
    kafka_bootstrap, capsys, tmp_path
):
    name = f"made-{uuid.uuid4().hex[:8]}.events"
    topics_file = tmp_path / "topics.yaml"
    topics_file.write_text(
        "defaults: {partitions: 2, replication_factor: 3, min_insync_replicas: 2,"
        " retention_ms: 1000, dlq_partitions: 1, dlq_retention_ms: 2000}\n"
        f"topics:\n  - name: {name}\n    producer: orders\n    consumers: [support]\n"
    )
    command = ["--bootstrap", kafka_bootstrap, "create-topics", "--replication-factor", "1"]

    assert cli.main([*command, "--file", str(topics_file)]) == 0
    assert f"created {name}\n" in capsys.readouterr().out
    ends = asyncio.run(ops.end_offsets(kafka_bootstrap, [name, f"{name}.support.dlq"]))
    assert ends == {name: [0, 0], f"{name}.support.dlq": [0]}

    assert cli.main([*command, "--file", str(topics_file)]) == 0
    assert "0 topic(s) created" in capsys.readouterr().out


async def test_listing_dead_letters_reads_only_the_topics_that_hold_some(
    kafka_bootstrap, monkeypatch
):
    """Reading a topic ends with a quiet spell on the broker, an empty one as long as a full
    one: the operator's listing (the gateway's GET /v1/ops/dead-letters) took a second with
    the platform's sixteen dead-letter topics nearly all empty."""
    origin = await fresh_topic(kafka_bootstrap, partitions=1)
    empty, holding = f"{origin}.orders.dlq", f"{origin}.payments.dlq"
    await ensure_topics(kafka_bootstrap, {empty: 1, holding: 1})
    await produce(kafka_bootstrap, holding, [("ord_dead", envelope("ord_dead"), {})])
    read = []
    reading = ops.read

    def counted(bootstrap, topic, **options):
        read.append(topic)
        return reading(bootstrap, topic, **options)

    monkeypatch.setattr(ops, "read", counted)

    letters = [d for d in await ops.dead_letters(kafka_bootstrap) if d.topic in (empty, holding)]

    assert [d.id for d in letters] == [f"{holding}:0:0"]
    assert holding in read and empty not in read
