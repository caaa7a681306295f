"""Notifications and their deliveries: the in-app inbox (pages, unread, read) and the e-mail
queue (due, claimed for sending, sent, retried, set aside for good)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.tables import (
    deliveries,
    notifications,
)
from servicekit.messaging.db import insert_ignoring_duplicates


class Inbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, Any], channels: list[str], now: datetime) -> bool:
        """Record a notification and its deliveries; False if it was recorded before."""
        statement = insert_ignoring_duplicates(self.session, notifications).values(**values)
        if not (await self.session.execute(statement)).rowcount:
            return False
        for channel in channels:
            in_app = channel == "in_app"  # the inbox is the in-app channel: delivered on write
            await self.session.execute(
                deliveries.insert().values(
                    notification_id=values["id"],
                    channel=channel,
                    state="sent" if in_app else "pending",
                    attempts=0,
                    next_attempt_at=None if in_app else now,
                    sent_at=now if in_app else None,
                )
            )
        return True

    async def page(
        self, recipient_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        """The recipient's in-app notifications, newest first, with every channel's state."""
        query = (
            select(notifications)
            .join(deliveries, deliveries.c.notification_id == notifications.c.id)
            .where(notifications.c.recipient_id == recipient_id, deliveries.c.channel == "in_app")
        )
        if after is not None:
            query = query.where(tuple_(notifications.c.created_at, notifications.c.id) < after)
        query = query.order_by(notifications.c.created_at.desc(), notifications.c.id.desc()).limit(
            limit
        )
        rows = (await self.session.execute(query)).all()
        channels = await self._channels([row.id for row in rows])
        return [dict(row._mapping) | {"channels": channels.get(row.id, [])} for row in rows]

    async def _channels(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        if not ids:
            return {}
        query = (
            select(deliveries)
            .where(deliveries.c.notification_id.in_(ids))
            .order_by(deliveries.c.id)
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for row in (await self.session.execute(query)).all():
            found.setdefault(row.notification_id, []).append(
                {
                    "channel": row.channel,
                    "state": row.state,
                    "attempts": row.attempts,
                    "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                    "last_error": row.last_error,
                }
            )
        return found

    async def unread(self, recipient_id: str) -> int:
        query = (
            select(func.count())
            .select_from(
                notifications.join(deliveries, deliveries.c.notification_id == notifications.c.id)
            )
            .where(
                notifications.c.recipient_id == recipient_id,
                notifications.c.read_at.is_(None),
                deliveries.c.channel == "in_app",
            )
        )
        return int((await self.session.execute(query)).scalar_one())

    async def mark_read(self, notification_id: str, recipient_id: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(notifications)
            .where(
                notifications.c.id == notification_id, notifications.c.recipient_id == recipient_id
            )
            .values(read_at=now)
        )
        return bool(result.rowcount)

    async def due_emails(self, now: datetime, limit: int) -> list[Any]:
        query = (
            select(deliveries, notifications)
            .join(notifications, deliveries.c.notification_id == notifications.c.id)
            .where(
                deliveries.c.channel == "email",
                or_(
                    deliveries.c.state == "sending",  # in doubt: its sender died mid-send
                    and_(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= now),
                ),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
        )
        return list((await self.session.execute(query)).all())

    async def retry_now_for(self, recipient_id: str, now: datetime) -> None:
        """E-mails to `recipient_id` waiting to be tried again are due now: their address
        arrived (principals and the events that address them travel on different topics)."""
        waiting = select(notifications.c.id).where(notifications.c.recipient_id == recipient_id)
        await self.session.execute(
            update(deliveries)
            .where(
                deliveries.c.channel == "email",
                deliveries.c.state == "pending",
                deliveries.c.next_attempt_at > now,
                deliveries.c.notification_id.in_(waiting),
            )
            .values(next_attempt_at=now)
        )

    async def sending(self, delivery_ids: list[int]) -> None:
        """Claimed for sending, committed before the SMTP server is asked: a delivery still
        `sending` when the next worker looks was in doubt when its sender died."""
        await self.session.execute(
            update(deliveries).where(deliveries.c.id.in_(delivery_ids)).values(state="sending")
        )

    async def failed_emails(
        self, after: tuple[datetime, int] | None, limit: int
    ) -> list[dict[str, Any]]:
        """E-mails set aside for good, most recent first, with their reasons."""
        query = (
            select(
                deliveries.c.id,
                deliveries.c.attempts,
                deliveries.c.last_error,
                deliveries.c.failed_at,
                notifications.c.id.label("notification_id"),
                notifications.c.recipient_id,
                notifications.c.message,
                notifications.c.order_id,
                notifications.c.created_at,
            )
            .join(notifications, deliveries.c.notification_id == notifications.c.id)
            .where(
                deliveries.c.channel == "email",
                deliveries.c.state == "failed",
                deliveries.c.failed_at.is_not(None),
            )
        )
        if after is not None:
            query = query.where(tuple_(deliveries.c.failed_at, deliveries.c.id) < after)
        query = query.order_by(deliveries.c.failed_at.desc(), deliveries.c.id.desc()).limit(limit)
        return [dict(row._mapping) for row in (await self.session.execute(query)).all()]

    async def delivered(self, delivery_id: int, **values: Any) -> None:
        await self.session.execute(
            update(deliveries).where(deliveries.c.id == delivery_id).values(**values)
        )
