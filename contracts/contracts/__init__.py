"""Event contracts shared by every service: pure pydantic, no I/O."""

from contracts.envelope import (
    Envelope,
    Event,
    RawEnvelope,
    encode_envelope,
    envelope_json,
)
from contracts.events import event_type_registry
from contracts.money import Money

__all__ = [
    "Envelope",
    "Event",
    "Money",
    "RawEnvelope",
    "encode_envelope",
    "envelope_json",
    "event_type_registry",
]
