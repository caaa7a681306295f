"""What a handler receives, and which handler takes which event type. No broker code here,
so services' handlers depend on this module only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka.structs import ConsumerRecord

from contracts import Envelope, Event
from servicekit.messaging.context import bind_correlation_id
from servicekit.messaging.uow import UnitOfWork

E = TypeVar("E", bound=Event)
U = TypeVar("U", bound=UnitOfWork)  # the service's unit of work, which its handlers get


@dataclass(frozen=True)
class Received(Generic[E]):
    """An event as a handler sees it: the typed payload and its envelope."""

    event: E
    envelope: Envelope[Any]
    record: ConsumerRecord
    event_id: str  # the envelope's id as text, as the inbox and causation ids keep it

    def cause(self) -> dict[str, str]:
        """Keyword arguments for `uow.emit` so an event emitted because of this one carries
        its correlation id and names it as its cause."""
        return {"correlation_id": self.envelope.correlation_id, "causation_id": self.event_id}


Handler = Callable[[Received[Any], U], Awaitable[None]]
BatchHandler = Callable[[list[Received[Any]], U], Awaitable[None]]


@dataclass(frozen=True)
class Route(Generic[U]):
    event_type: type[Event]
    handle: BatchHandler[U]
    envelope_model: type[Envelope[Any]]  # validates envelope and data in one pass


def _one_at_a_time(handler: Handler[U]) -> BatchHandler[U]:
    async def handle(items: list[Received[Any]], uow: U) -> None:
        for item in items:
            bind_correlation_id(item.envelope.correlation_id)
            uow.correlation_id = item.envelope.correlation_id
            uow.causation_id = item.event_id
            await handler(item, uow)

    return handle


class EventRouter(Generic[U]):
    """Which handler takes which event type. Types without a handler are ignored.

    `U` is the unit of work the handlers are given: the service's `UnitOfWork` subclass, the
    one its `Database` opens (`router: EventRouter[OrdersUnit] = EventRouter()`).

    A handler takes one event (`add`, `on`); a batch handler takes a run of consecutive
    events of its type from one Kafka batch (`add_batch`), so that it can write them with
    one statement instead of one round trip each. Runs keep the batch's order.
    """

    def __init__(self) -> None:
        self._routes: dict[str, Route[U]] = {}

    def on(self, event_type: type[E]) -> Callable[[Handler[U]], Handler[U]]:
        def register(handler: Handler[U]) -> Handler[U]:
            self.add(event_type, handler)
            return handler

        return register

    def add(self, event_type: type[Event], handler: Handler[U]) -> None:
        self.add_batch(event_type, _one_at_a_time(handler))

    def add_batch(self, event_type: type[Event], handler: BatchHandler[U]) -> None:
        if event_type.type in self._routes:
            raise ValueError(f"{event_type.type} already has a handler")
        self._routes[event_type.type] = Route(event_type, handler, Envelope[event_type])  # type: ignore[valid-type]

    @property
    def event_types(self) -> list[type[Event]]:
        return [route.event_type for route in self._routes.values()]

    @property
    def topics(self) -> list[str]:
        return sorted({route.event_type.topic for route in self._routes.values()})

    def route(self, type_name: str) -> Route[U] | None:
        return self._routes.get(type_name)
