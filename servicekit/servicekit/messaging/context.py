"""Correlation ids travel with a request or a message through logs and emitted events."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

import structlog

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def current_correlation_id() -> str:
    """The id of the flow being handled now, or a fresh one if none is."""
    return _correlation_id.get() or new_correlation_id()


def bind_correlation_id(correlation_id: str) -> None:
    _correlation_id.set(correlation_id)
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
