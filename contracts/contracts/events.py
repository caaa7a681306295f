"""The catalogue of every event type, by name: the event modules of each producing service,
gathered here and nowhere else (`contracts.envelope` defines `Event` and knows none of them).
"""

from __future__ import annotations

from types import ModuleType

from contracts import orders, payments, principals, seller_standards, support
from contracts.envelope import Event

EVENT_MODULES: tuple[ModuleType, ...] = (orders, payments, principals, seller_standards, support)


def _event_types_of(modules: tuple[ModuleType, ...]) -> dict[str, type[Event]]:
    """The event types defined in `modules`, by name, in the order they are defined."""
    found: dict[str, type[Event]] = {}
    for module in modules:
        for value in vars(module).values():
            defined_here = isinstance(value, type) and value.__module__ == module.__name__
            if not (defined_here and issubclass(value, Event) and "type" in vars(value)):
                continue
            if value.type in found:
                raise ValueError(f"event type {value.type} is defined twice")
            found[value.type] = value
    return found


_EVENT_TYPES = _event_types_of(EVENT_MODULES)


def event_type_registry() -> dict[str, type[Event]]:
    """Every known event type by name."""
    return dict(_EVENT_TYPES)
