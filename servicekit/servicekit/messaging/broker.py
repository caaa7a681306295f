"""The FastStream Kafka broker with the platform's safe defaults.

FastStream's own Kafka defaults are at-most-once. Here: subscribers join the consumer group
named after the service, start from the earliest offset, and commit only after the batch's
transaction (see `consumer.subscribe`); the broker waits for in-flight batches on shutdown.
Publishing is the outbox relay's job, with its own producer (`relay.make_producer`).

Every client here connects with a `KafkaSecurity`: PLAINTEXT on the development stack's
loopback broker, SASL_SSL (SCRAM, one user per service) everywhere else.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


@dataclass(frozen=True)
class KafkaSecurity:
    """How a client proves who it is to the broker and checks the broker's certificate."""

    protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)
    cafile: str = ""

    def __post_init__(self) -> None:
        if self.protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
            raise ValueError(f"unknown Kafka security protocol {self.protocol!r}")
        if self.sasl:
            if self.mechanism not in _SASL:
                raise ValueError(f"unsupported SASL mechanism {self.mechanism!r}")
            if not self.username or not self.password:
                raise ValueError(
                    f"KAFKA_SECURITY_PROTOCOL={self.protocol} needs KAFKA_SASL_USERNAME and "
                    "KAFKA_SASL_PASSWORD"
                )

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """Verifies the broker's certificate and host name, against `cafile` when given."""
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=self.cafile or None)

    def faststream(self) -> BaseSecurity | None:
        """The FastStream security object for `KafkaBroker(security=...)`."""
        context = self.ssl_context()
        if self.sasl:
            return _SASL[self.mechanism](
                self.username, self.password, ssl_context=context, use_ssl=self.tls
            )
        if self.tls:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return None

    def client_options(self) -> dict[str, Any]:
        """The same as aiokafka keyword arguments, for the producers, consumers and admin
        clients built directly (one translation, FastStream's, for both)."""
        return parse_security(self.faststream())


PLAINTEXT = KafkaSecurity()


def make_broker(
    bootstrap_servers: str,
    *,
    service_name: str,
    graceful_timeout: float = 15.0,
    security: KafkaSecurity = PLAINTEXT,
) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=service_name,
        acks="all",
        graceful_timeout=graceful_timeout,
        log_level=logging.DEBUG,
        security=security.faststream(),
    )


async def ensure_topics(
    bootstrap_servers: str,
    topics: dict[str, int],
    replication_factor: int = 1,
    configs: dict[str, dict[str, str]] | None = None,
    *,
    security: KafkaSecurity = PLAINTEXT,
) -> list[str]:
    """Create the topics that do not exist yet (`{name: partitions}`, with each topic's
    Kafka configs from `configs`); answer the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **security.client_options())
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
