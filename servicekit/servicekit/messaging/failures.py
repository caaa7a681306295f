"""Which failures are worth retrying, and how a message becomes a dead letter.

- An invalid message (not JSON, not an envelope, data that fails its schema) can never
  succeed: it is dead-lettered at once.
- A handler that raises is retried a few times, then its message is dead-lettered, so one
  poison message never stalls its partition.
- Infrastructure failures (the database refusing connections, an optimistic-concurrency
  conflict) are not the message's fault: the whole batch is retried with capped backoff and
  nothing is dead-lettered or acknowledged until it succeeds.

Dead letters travel through the outbox, in the same transaction as the rest of the batch,
so a dead letter is never lost either. They go to `<topic>.<group>.dlq` with the original
key, body and headers, plus the reason and origin in `x-dlq-*` headers.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiokafka.structs import ConsumerRecord
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from contracts.topics import dead_letter_topic


class InvalidMessage(Exception):
    """The message cannot be decoded or does not match its event type's schema."""


class ConcurrentUpdate(Exception):
    """Another transaction changed the aggregate first (optimistic concurrency)."""


# PostgreSQL's "try again" codes: a serialization failure and a deadlock between two
# transactions (a consumer and a timer touching the same rows); one of them simply retries.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


def _sqlstate(error: BaseException) -> str | None:
    cause: BaseException | None = error
    while cause is not None:
        code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(code, str):
            return code
        cause = cause.__cause__ or getattr(cause, "orig", None)
    return None


def is_transient(error: BaseException) -> bool:
    """True for failures of the infrastructure rather than of the message."""
    if isinstance(error, OperationalError | InterfaceError | StaleDataError | ConcurrentUpdate):
        return True
    if isinstance(error, DBAPIError) and (
        error.connection_invalidated or _sqlstate(error) in RETRYABLE_SQLSTATES
    ):
        return True
    return isinstance(error, ConnectionError | TimeoutError | asyncio.TimeoutError | OSError)


DLQ_HEADERS = (
    "x-dlq-reason",
    "x-dlq-error",
    "x-dlq-attempts",
    "x-dlq-origin-topic",
    "x-dlq-origin-partition",
    "x-dlq-origin-offset",
    "x-dlq-group",
    "x-dlq-at",
)


def dead_letter_headers(
    record: ConsumerRecord, *, group: str, reason: str, error: str, attempts: int, at: datetime
) -> list[list[str]]:
    original = [
        [key, value.decode("utf-8", "replace")]
        for key, value in (record.headers or ())
        if not key.startswith("x-dlq-")
    ]
    return [
        *original,
        ["x-dlq-reason", reason],
        ["x-dlq-error", error[:2000]],
        ["x-dlq-attempts", str(attempts)],
        ["x-dlq-origin-topic", record.topic],
        ["x-dlq-origin-partition", str(record.partition)],
        ["x-dlq-origin-offset", str(record.offset)],
        ["x-dlq-group", group],
        ["x-dlq-at", at.isoformat()],
    ]


def dlq_topic_for(record: ConsumerRecord, group: str) -> str:
    return dead_letter_topic(record.topic, group)
