import pytest
from sqlalchemy import select, update

from servicekit.messaging.db import outbox
from servicekit.messaging.relay import OutboxRelay, make_producer
from servicekit.testing import body_of, headers_of, read_topic

from kit_helpers import placed


async def _emit(db, order_ids, topic):
    async with db.unit_of_work() as uow:
        for order_id in order_ids:
            uow.emit(placed(order_id))
        await uow.commit()
    async with db.engine.begin() as connection:  # point the test's events at its own topic
        await connection.execute(update(outbox).values(topic=topic))


async def test_the_relay_publishes_committed_events_in_order_keyed_by_aggregate(
    db, engine, clock, kafka_bootstrap, topic
):
    order_ids = [f"o{i % 3}" for i in range(30)]
    await _emit(db, order_ids, topic)
    async with engine.connect() as connection:
        written = [
            row.event_id
            for row in (
                await connection.execute(
                    select(outbox).where(outbox.c.message_key == "o1").order_by(outbox.c.id)
                )
            ).all()
        ]
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(engine, producer, batch_size=8)
    try:
        published = [await relay.publish_batch() for _ in range(5)]
    finally:
        await producer.stop()

    assert published == [8, 8, 8, 6, 0]
    assert await relay.backlog() == 0
    records = await read_topic(kafka_bootstrap, topic, expect=30)
    assert len(records) == 30
    by_key: dict[str, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(record.key.decode(), []).append(record.partition)
        assert headers_of(record)["ce_type"] == "marketplace.order.placed.v1"
    # every aggregate's events share one partition, so their order is kept
    assert all(len(set(partitions)) == 1 for partitions in by_key.values())
    received = [
        headers_of(r)["ce_id"] for r in sorted(records, key=lambda r: r.offset) if r.key == b"o1"
    ]
    assert received == written


async def test_rows_published_but_not_deleted_are_published_again_not_lost(
    db, engine, clock, kafka_bootstrap, topic, monkeypatch
):
    await _emit(db, ["o1", "o2"], topic)
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(engine, producer)

    async def crash_before_deleting(ids):
        raise ConnectionError("relay died after publishing")

    try:
        with monkeypatch.context() as patch:
            patch.setattr(relay, "_delete_published", crash_before_deleting)
            with pytest.raises(ConnectionError):
                await relay.publish_batch()
        assert await relay.backlog() == 2
        assert await relay.publish_batch() == 2
    finally:
        await producer.stop()

    records = await read_topic(kafka_bootstrap, topic, expect=4)
    ids = [body_of(r)["id"] for r in records]
    assert len(ids) == 4 and len(set(ids)) == 2  # at-least-once: same ids, consumers dedupe
    assert await relay.backlog() == 0
