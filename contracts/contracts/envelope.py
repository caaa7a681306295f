"""The CloudEvents-aligned envelope every event travels in, and `Event`, the base of every
event type.

An event type is a pydantic model subclassing `Event` with a `type` name such as
`marketplace.order.placed.v1` and the `topic` it is published on. The envelope carries it as
`data`; `ce_id` and `ce_type` are mirrored into Kafka headers so that operators and filters
need not decode bodies. The catalogue of every event type is `contracts.events`, which
imports the event modules; this module knows none of them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Event(BaseModel):
    """Base of every event payload. Consumers ignore fields they do not know."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: ClassVar[str]
    topic: ClassVar[str]

    def __init_subclass__(
        cls, *, type: str | None = None, topic: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if type is None:
            return
        cls.type = type
        cls.topic = topic or ""

    def subject(self) -> str:
        """The aggregate id this event is about; also the Kafka key that keeps its order."""
        raise NotImplementedError


E = TypeVar("E", bound=Event)


class Envelope(BaseModel, Generic[E]):
    """CloudEvents 1.0 attributes plus correlation and causation ids."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: str = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    source: str
    time: AwareDatetime
    subject: str
    datacontenttype: str = "application/json"
    correlation_id: str
    causation_id: str | None = None
    data: E


class RawEnvelope(BaseModel):
    """The envelope with `data` left undecoded, for routing by `type` before validation.

    Producers build envelopes with `encode_envelope`; consumers read them with this model and
    then validate `data` against the registered event type.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: str = "1.0"
    id: uuid.UUID
    type: str
    source: str
    time: AwareDatetime
    subject: str
    correlation_id: str
    causation_id: str | None = None
    data: dict[str, Any]


def _attributes(
    event: Event,
    event_id: uuid.UUID,
    source: str,
    time: datetime,
    correlation_id: str,
    causation_id: str | None,
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(event_id),
        "type": event.type,
        "source": source,
        "time": time.isoformat(),
        "subject": event.subject(),
        "datacontenttype": "application/json",
        "correlation_id": correlation_id,
        "causation_id": causation_id,
    }


def encode_envelope(
    event: Event,
    *,
    event_id: uuid.UUID,
    source: str,
    time: datetime,
    correlation_id: str,
    causation_id: str | None,
) -> dict[str, Any]:
    """The JSON-ready envelope for `event` (the shape `Envelope[E]` validates)."""
    attributes = _attributes(event, event_id, source, time, correlation_id, causation_id)
    return attributes | {"data": event.model_dump(mode="json")}


def envelope_json(
    event: Event,
    *,
    event_id: uuid.UUID,
    source: str,
    time: datetime,
    correlation_id: str,
    causation_id: str | None,
) -> bytes:
    """`encode_envelope` serialized, the fast way: the event's JSON comes from pydantic's
    serializer and is spliced in, rather than dumped to a dict and encoded again."""
    attributes = _attributes(event, event_id, source, time, correlation_id, causation_id)
    return orjson.dumps(attributes | {"data": orjson.Fragment(event.model_dump_json())})
