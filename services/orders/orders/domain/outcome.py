"""What a use case decided: the order as it is now and the events that follow from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from contracts import Event
from contracts.orders import EventFacts, OrderCancelled
from orders.domain.order import Order
from orders.domain.resale_events import EventSnapshot


@dataclass(frozen=True)
class Outcome:
    """The changed order and the events to publish with it. `stock_back` says the order ended
    unfulfilled just now, so its quantity goes back to the listing."""

    order: Order
    events: tuple[Event, ...] = ()
    stock_back: bool = False


def order_fact(order: Order, at: datetime) -> dict[str, Any]:
    """The fields every order event after placement carries."""
    return {
        "order_id": order.id,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "listing_id": order.listing_id,
        "fulfilment": order.fulfilment.value,
        "occurred_at": at,
    }


def event_facts(event: EventSnapshot | None) -> EventFacts | None:
    """A resale event as orders' events carry it (#20)."""
    if event is None:
        return None
    return EventFacts(
        event_id=event.id,
        name=event.name,
        venue=event.venue,
        kind=event.kind.value,  # type: ignore[arg-type]
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        utc_offset_minutes=event.utc_offset_minutes,
    )


def cancelled(
    order: Order, reason: str, by: Literal["buyer", "seller", "system"], at: datetime
) -> OrderCancelled:
    """OrderCancelled keeps the shape the first slice defined (no listing or fulfilment)."""
    return OrderCancelled(
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        reason=reason,
        cancelled_by=by,
        cancelled_at=at,
        event=event_facts(order.event),
    )
