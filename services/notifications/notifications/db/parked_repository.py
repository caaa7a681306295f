"""Events that arrived before their order's `order.placed`, kept until it comes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.tables import (
    parked,
)
from servicekit.messaging.db import insert_ignoring_duplicates


class Parked:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def park(
        self, event_id: str, order_id: str, event_type: str, data: dict[str, Any], now: datetime
    ) -> None:
        statement = insert_ignoring_duplicates(self.session, parked).values(
            event_id=event_id, order_id=order_id, event_type=event_type, data=data, parked_at=now
        )
        await self.session.execute(statement)

    async def take(self, order_id: str) -> list[Any]:
        """The events parked for `order_id`, oldest first, removed from the lot."""
        query = select(parked).where(parked.c.order_id == order_id).order_by(parked.c.parked_at)
        rows = list((await self.session.execute(query)).all())
        if rows:
            await self.session.execute(delete(parked).where(parked.c.order_id == order_id))
        return rows
