"""What only Stripe tells us: webhook events received (once each) and disputes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payments.db.tables import disputes, webhook_events
from servicekit.messaging.db import insert_ignoring_duplicates


class Webhooks:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, event_id: str, event_type: str, created: int, now: datetime) -> bool:
        """Record a Stripe event; False if it was received before (a replay)."""
        statement = insert_ignoring_duplicates(self.session, webhook_events).values(
            id=event_id, type=event_type, created=created, received_at=now
        )
        return bool((await self.session.execute(statement)).rowcount)


class Disputes:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, dispute_id: str) -> Any | None:
        query = select(disputes).where(disputes.c.id == dispute_id)
        return (await self.session.execute(query)).first()

    async def of_order(self, order_id: str) -> list[Any]:
        query = (
            select(disputes).where(disputes.c.order_id == order_id).order_by(disputes.c.opened_at)
        )
        return list((await self.session.execute(query)).all())

    async def put(self, **values: Any) -> None:
        exists = await self.get(values["id"])
        if exists is None:
            await self.session.execute(disputes.insert().values(**values))
        else:
            await self.session.execute(
                update(disputes).where(disputes.c.id == values["id"]).values(**values)
            )
