"""Resale events (orders.domain.resale_events), written under optimistic concurrency."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.db.tables import orders, resale_events
from orders.domain.resale_events import EventKind, EventStatus, ResaleEvent
from servicekit.messaging.failures import ConcurrentUpdate


def _event(row: Any) -> ResaleEvent:
    return ResaleEvent(
        id=row.id,
        name=row.name,
        venue=row.venue,
        kind=EventKind(row.kind),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        utc_offset_minutes=row.utc_offset_minutes,
        status=EventStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancel_reason=row.cancel_reason,
        version=row.version,
    )


def _columns(event: ResaleEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "venue": event.venue,
        "kind": event.kind.value,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "utc_offset_minutes": event.utc_offset_minutes,
        "status": event.status.value,
        "cancel_reason": event.cancel_reason,
        "created_at": event.created_at,
        "updated_at": event.updated_at,
        "version": event.version,
    }


class ResaleEvents:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, event: ResaleEvent) -> None:
        await self.session.execute(insert(resale_events).values(**_columns(event)))

    async def get(self, event_id: str) -> ResaleEvent | None:
        query = select(resale_events).where(resale_events.c.id == event_id)
        row = (await self.session.execute(query)).first()
        return _event(row) if row else None

    async def save(self, event: ResaleEvent) -> ResaleEvent:
        """Write `event` if nobody changed it since it was read (its `version`)."""
        saved = replace(event, version=event.version + 1)
        result = await self.session.execute(
            update(resale_events)
            .where(resale_events.c.id == event.id, resale_events.c.version == event.version)
            .values(**_columns(saved))
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"event {event.id} was changed by someone else")
        return saved

    async def open_order_ids(self, event_id: str, closed: list[str]) -> list[str]:
        """The orders for the event not yet over (`closed`: the statuses that are)."""
        query = (
            select(orders.c.id)
            .where(orders.c.event_id == event_id, orders.c.status.not_in(closed))
            .order_by(orders.c.placed_at, orders.c.id)
        )
        return [row.id for row in (await self.session.execute(query)).all()]
