"""One hop, two ways, on one broker in one run:

1. raw: aiokafka consume -> produce -> commit, batched (the ceiling);
2. service: the servicekit's batch consumer (inbox + a state write + an outgoing event in one
   transaction per batch) followed by the outbox relay publishing to the next topic.

Prints events/s for each and their ratio. The database is PostgreSQL when one answers
(DATABASE_URL, else 127.0.0.1:5432), else SQLite; the broker is KAFKA_BOOTSTRAP_SERVERS, else
the embedded one.

    uv run python bench/hop.py [--events 20000] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import AwareDatetime
from sqlalchemy import Column, Integer, MetaData, String, Table

from contracts import Event, Money, encode_envelope
from devstack import components
from devstack.pytest_plugin import (
    _postgres_server_url,
    drop_postgres_database,
    fresh_postgres_database,
)
from servicekit.domain.clock import SystemClock
from servicekit.messaging.broker import ensure_topics, make_broker
from servicekit.messaging.consumer import BatchProcessor, subscribe
from servicekit.messaging.db import insert_rows, kit_metadata, make_engine
from servicekit.messaging.events import EventRouter
from servicekit.messaging.relay import OutboxRelay, make_producer
from servicekit.messaging.uow import Database

PARTITIONS = 6
BATCH = int(os.environ.get("BENCH_BATCH", "500"))


class BenchOrderPlaced(Event, type="bench.order.placed.v1", topic="bench.in"):
    order_id: str
    total: Money
    placed_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class BenchPaymentQueued(Event, type="bench.payment.queued.v1", topic="bench.out"):
    order_id: str
    amount: Money

    def subject(self) -> str:
        return self.order_id


bench_metadata = MetaData()
bench_payments = Table(
    "bench_payments",
    bench_metadata,
    Column("order_id", String(64), primary_key=True),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
)


def envelopes(n: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        event = BenchOrderPlaced(
            order_id=f"ord_{i}", total=Money(amount_minor=1000 + i, currency="EUR"), placed_at=now
        )
        event_id = uuid.uuid4()
        body = encode_envelope(
            event,
            event_id=event_id,
            source="bench",
            time=now,
            correlation_id=str(event_id),
            causation_id=None,
        )
        headers = [("ce_id", str(event_id).encode()), ("ce_type", event.type.encode())]
        out.append((event.order_id.encode(), json.dumps(body).encode(), headers))
    return out


async def preload(bootstrap: str, topic: str, messages: list) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=k, headers=h) for k, v, h in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def count_until(bootstrap: str, topic: str, n: int, timeout: float = 600) -> float:
    """Wait until `n` records are on `topic`; answer when the last one arrived."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen, deadline = 0, time.monotonic() + timeout
    try:
        while seen < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            seen += sum(len(records) for records in batch.values())
    finally:
        await consumer.stop()
    if seen < n:
        raise RuntimeError(f"only {seen} of {n} arrived on {topic}")
    return time.perf_counter()


async def raw_passthrough(bootstrap: str, n: int, tag: str) -> float:
    source, sink = f"raw-in-{tag}", f"raw-out-{tag}"
    await ensure_topics(bootstrap, {source: PARTITIONS, sink: PARTITIONS})
    await preload(bootstrap, source, envelopes(n))
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{tag}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await consumer.start()
    await producer.start()
    done, started = 0, None
    try:
        while done < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                continue
            started = started or time.perf_counter()
            futures = [
                await producer.send(sink, r.value, key=r.key, headers=list(r.headers))
                for r in records
            ]
            await asyncio.gather(*futures)
            await consumer.commit()
            done += len(records)
        finished = time.perf_counter()
    finally:
        await consumer.stop()
        await producer.stop()
    return n / (finished - started)


async def service_hop(bootstrap: str, database_url: str, n: int, tag: str) -> float:
    source, sink, group = f"svc-in-{tag}", f"svc-out-{tag}", f"svc-{tag}"
    BenchPaymentQueued.topic = sink
    await ensure_topics(
        bootstrap, {source: PARTITIONS, sink: PARTITIONS, f"{source}.{group}.dlq": 1}
    )
    await preload(bootstrap, source, envelopes(n))

    engine = make_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(kit_metadata.create_all)
        await connection.run_sync(bench_metadata.create_all)
    clock = SystemClock()
    producer = make_producer(bootstrap)
    relay = OutboxRelay(engine, producer, batch_size=BATCH)
    db = Database(engine, source="bench", clock=clock, on_outbox_written=relay.wake)
    router = EventRouter()
    first: list[float] = []
    sizes: list[int] = []
    last: list[float] = []

    async def queue_payments(run, uow) -> None:  # the shape of payments' on_orders_placed
        if not first:
            first.append(time.perf_counter())
        sizes.append(len(run))
        last[:] = [time.perf_counter()]
        rows = [
            {
                "order_id": r.event.order_id,
                "amount_minor": r.event.total.amount_minor,
                "currency": r.event.total.currency,
            }
            for r in run
        ]
        await insert_rows(uow.session, bench_payments, rows)
        for r in run:
            uow.emit(
                BenchPaymentQueued(order_id=r.event.order_id, amount=r.event.total), **r.cause()
            )

    router.add_batch(BenchOrderPlaced, queue_payments)

    broker = make_broker(bootstrap, service_name=group)
    processor = BatchProcessor(db, router, group=group)
    subscribe(broker, processor, batch_size=BATCH, topics=[source])
    await producer.start()
    await relay.start()
    await broker.start()
    try:
        finished = await count_until(bootstrap, sink, n)
    finally:
        await broker.stop()
        await relay.stop()
        await producer.stop()
        await engine.dispose()
    consumer_only = n / (last[0] - first[0])
    return n / (finished - first[0]), consumer_only, sum(sizes) / max(1, len(sizes))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    child = None
    if not bootstrap:
        child, bootstrap = components.broker(log_dir=scratch)
        child.start()
    components.wait_for_broker(bootstrap)
    server = _postgres_server_url() if args.database != "sqlite" else None
    if args.database == "postgresql" and not server:
        raise SystemExit("no PostgreSQL answers")
    dropped = None
    if server:
        database_url, dropped = fresh_postgres_database(server)
        kind = "postgresql"
    else:
        database_url, kind = f"sqlite+aiosqlite:///{scratch}/bench.db", "sqlite"
    tag = uuid.uuid4().hex[:6]
    try:
        raw = asyncio.run(raw_passthrough(bootstrap, args.events, tag))
        hop, consumer_only, batch = asyncio.run(
            service_hop(bootstrap, database_url, args.events, tag)
        )
    finally:
        if dropped:
            drop_postgres_database(server, dropped)
        if child:
            child.stop()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"broker: {'embedded (Tansu, memory)' if child else bootstrap}; database: {kind}")
    print(f"events: {args.events}, partitions: {PARTITIONS}, batch: {BATCH} (mean {batch:.0f})")
    print(f"raw aiokafka passthrough : {raw:9.0f} events/s")
    print(f"servicekit hop           : {hop:9.0f} events/s  (consume to published)")
    print(f"  of which the consumer  : {consumer_only:9.0f} events/s  (consume to committed)")
    print(f"ratio                    : {hop / raw:9.1%}")


if __name__ == "__main__":
    main()
