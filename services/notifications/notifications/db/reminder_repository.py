"""Reminders scheduled for later, cancelled when the order moves on, taken when due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.tables import (
    reminders,
)
from notifications.domain import Reminder
from servicekit.messaging.db import insert_ignoring_duplicates


class Reminders:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, reminder: Reminder) -> None:
        statement = insert_ignoring_duplicates(self.session, reminders).values(
            id=f"{reminder.kind}:{reminder.order_id}",
            kind=reminder.kind,
            order_id=reminder.order_id,
            recipient_id=reminder.recipient_id,
            due_at=reminder.due_at,
            state="scheduled",
        )
        await self.session.execute(statement)

    async def cancel(self, order_id: str, kinds: tuple[str, ...]) -> None:
        await self.session.execute(
            update(reminders)
            .where(
                reminders.c.order_id == order_id,
                reminders.c.kind.in_(kinds),
                reminders.c.state == "scheduled",
            )
            .values(state="cancelled")
        )

    async def due(self, now: datetime, limit: int) -> list[Any]:
        query = (
            select(reminders)
            .where(reminders.c.state == "scheduled", reminders.c.due_at <= now)
            .order_by(reminders.c.due_at)
            .limit(limit)
        )
        return list((await self.session.execute(query)).all())

    async def sent(self, reminder_id: str) -> None:
        await self.session.execute(
            update(reminders).where(reminders.c.id == reminder_id).values(state="sent")
        )
