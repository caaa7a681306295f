"""The FastStream Kafka broker with the platform's safe defaults.

FastStream's own Kafka defaults are at-most-once. Here: subscribers join the consumer group
named after the service, start from the earliest offset, and commit only after the batch's
transaction (see `consumer.subscribe`); the broker waits for in-flight batches on shutdown.
Publishing is the outbox relay's job, with its own producer (`relay.make_producer`).
"""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker


def make_broker(
    bootstrap_servers: str, *, service_name: str, graceful_timeout: float = 15.0
) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=service_name,
        acks="all",
        graceful_timeout=graceful_timeout,
        log_level=logging.DEBUG,
    )


async def ensure_topics(
    bootstrap_servers: str,
    topics: dict[str, int],
    replication_factor: int = 1,
    configs: dict[str, dict[str, str]] | None = None,
) -> list[str]:
    """Create the topics that do not exist yet (`{name: partitions}`, with each topic's
    Kafka configs from `configs`); answer the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name,
                partitions,
                replication_factor,
                topic_configs=(configs or {}).get(name, {}),
            )
            for name, partitions in topics.items()
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [topic.name for topic in missing]
    finally:
        await admin.close()
