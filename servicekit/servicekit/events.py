"""What a handler receives, and which handler takes which event type. No broker code here,
so services' handlers depend on this module only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka.structs import ConsumerRecord

from contracts import Event, RawEnvelope
from servicekit.uow import UnitOfWork

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Received(Generic[E]):
    """An event as a handler sees it: the typed payload and its envelope."""

    event: E
    envelope: RawEnvelope
    record: ConsumerRecord

    @property
    def event_id(self) -> str:
        return str(self.envelope.id)


Handler = Callable[[Received[Any], UnitOfWork], Awaitable[None]]


class EventRouter:
    """Which handler takes which event type. Types without a handler are ignored."""

    def __init__(self) -> None:
        self._routes: dict[str, tuple[type[Event], Handler]] = {}

    def on(self, event_type: type[E]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(event_type, handler)
            return handler

        return register

    def add(self, event_type: type[Event], handler: Handler) -> None:
        if event_type.type in self._routes:
            raise ValueError(f"{event_type.type} already has a handler")
        self._routes[event_type.type] = (event_type, handler)

    @property
    def topics(self) -> list[str]:
        return sorted({event_type.topic for event_type, _ in self._routes.values()})

    def route(self, type_name: str) -> tuple[type[Event], Handler] | None:
        return self._routes.get(type_name)
