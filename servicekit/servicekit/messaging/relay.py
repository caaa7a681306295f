"""The outbox relay: publishes committed outbox rows in batches and deletes them once published.

A batch is read, every message is handed to the producer at once (keyed by aggregate id so
one order's events keep their order), and the relay waits once for the whole batch to be
acknowledged (`acks="all"`). Only then are the rows deleted (deleting is cheaper than marking
and keeps the table small: what is in the outbox is what is not yet published). A crash
between publishing and deleting publishes those rows again on restart: at-least-once, and
consumers deduplicate by event id in their inbox.

On PostgreSQL, a session advisory lock makes sure only one relay per database publishes at a
time (several replicas may run), which keeps the per-key order.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.messaging import failpoints, metrics
from servicekit.messaging.broker import PLAINTEXT, KafkaSecurity
from servicekit.messaging.db import outbox
from servicekit.messaging.exclusive import ExclusiveLock
from servicekit.messaging.worker import BackgroundWorker

log = structlog.get_logger(__name__)


def make_producer(
    bootstrap_servers: str,
    *,
    idempotence: bool = False,
    client_id: str | None = None,
    request_timeout_ms: int = 30000,
    security: KafkaSecurity = PLAINTEXT,
) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **security.client_options(),
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=idempotence,
        linger_ms=2,
        max_batch_size=1024 * 1024,
        request_timeout_ms=request_timeout_ms,
    )


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        lock_name: str = "outbox-relay",
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.lock = ExclusiveLock(engine, lock_name)
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._partitions_fresh_until = 0.0
        self.worker = BackgroundWorker(
            "outbox-relay", self._step, poll_seconds=poll_seconds, on_failure=self._on_failure
        )

    def wake(self) -> None:
        """Something was written to the outbox: publish now rather than at the next poll."""
        self.worker.wake()

    async def start(self) -> None:
        await self.worker.start()

    async def stop(self) -> None:
        """Publish what is left (bounded by the producer's timeouts), then stop."""
        await self.worker.stop()
        await self._release_lock()

    async def _step(self) -> bool:
        if not await self._holds_lock():
            return False
        if time.monotonic() >= self._partitions_fresh_until:
            self._partitions.clear()  # pick up topics that gained partitions
            self._partitions_fresh_until = time.monotonic() + 600
        return await self.publish_batch() == self.batch_size

    async def _on_failure(self, _: BaseException) -> None:
        metrics.RELAY_FAILURES.inc()
        await self._release_lock()

    async def publish_batch(self) -> int:
        """Publish up to one batch of unpublished rows; answer how many were published."""
        rows = await self._unpublished()
        if not rows:
            metrics.OUTBOX_BACKLOG.set(0)
            return 0
        await self._send(rows)
        await failpoints.reached("relay.after_publish")
        await self._delete_published([row.id for row in rows])
        for row in rows:
            metrics.OUTBOX_PUBLISHED.labels(row.topic).inc()
        return len(rows)

    async def _unpublished(self) -> list[Any]:
        async with self.engine.connect() as connection:
            return list(
                (
                    await connection.execute(
                        select(
                            outbox.c.id,
                            outbox.c.topic,
                            outbox.c.message_key,
                            outbox.c.payload,
                            outbox.c.headers,
                        )
                        .order_by(outbox.c.id)
                        .limit(self.batch_size)
                    )
                ).all()
            )

    async def _send(self, rows: list[Any]) -> None:
        """Hand the rows to Kafka as one record batch per partition and wait once for all.

        Partitions follow Kafka's default partitioner (murmur2 of the key), so an aggregate's
        events land where any other producer would put them; rows stay in outbox order
        within each partition."""
        batches: dict[tuple[str, int], list[Any]] = {}
        for row in rows:
            key = row.message_key.encode()
            partitions = self._partitions.get(row.topic)
            if partitions is None:
                partitions = sorted(await self.producer.partitions_for(row.topic))
                self._partitions[row.topic] = partitions
            partition = self._partitioner(key, partitions, partitions)
            batches.setdefault((row.topic, partition), []).append((key, row))
        sends = []
        for (topic, partition), records in batches.items():
            batch = self.producer.create_batch()
            for key, row in records:
                headers = [(k, v.encode()) for k, v in row.headers]
                if (
                    batch.append(key=key, value=row.payload, timestamp=None, headers=headers)
                    is None
                ):
                    sends.append(await self.producer.send_batch(batch, topic, partition=partition))
                    batch = self.producer.create_batch()
                    batch.append(key=key, value=row.payload, timestamp=None, headers=headers)
            sends.append(await self.producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sends)  # one wait for the whole batch

    async def _delete_published(self, ids: list[int]) -> None:
        async with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # one array parameter, not 500
                await connection.execute(
                    text("DELETE FROM outbox WHERE id = ANY(CAST(:ids AS bigint[]))"), {"ids": ids}
                )
            else:
                await connection.execute(delete(outbox).where(outbox.c.id.in_(ids)))

    async def backlog(self) -> int:
        async with self.engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(outbox))
        metrics.OUTBOX_BACKLOG.set(count or 0)
        return int(count or 0)

    async def _holds_lock(self) -> bool:
        if await self.lock.held():
            return True
        await asyncio.sleep(self.poll_seconds)
        return False

    async def _release_lock(self) -> None:
        await self.lock.release()
