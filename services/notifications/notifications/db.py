"""Notifications' tables and repositories: the only module that speaks SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain import OrderParties, Preferences, Reminder
from servicekit.messaging.db import NAMING_CONVENTION, UtcDateTime, insert_ignoring_duplicates
from servicekit.messaging.uow import UnitOfWork, repository

metadata = MetaData(naming_convention=NAMING_CONVENTION)

principals = Table(
    "principals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("locale", String(10), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("facts", JSON, nullable=False),
)

preferences = Table(
    "preferences",
    metadata,
    Column("principal_id", String(64), primary_key=True),
    Column("email", Boolean, nullable=False),
    Column("in_app", Boolean, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(40), primary_key=True),
    # the event (or reminder), the recipient and the message: told once, however often the
    # event is delivered
    Column("dedupe_key", String(250), nullable=False),
    Column("recipient_id", String(64), nullable=False, index=True),
    Column("message", String(60), nullable=False),
    Column("order_id", String(40), nullable=True),
    Column("title", String(300), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("link", String(500), nullable=True),
    Column("must", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("read_at", UtcDateTime(), nullable=True),
    UniqueConstraint("dedupe_key"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("notification_id", String(40), nullable=False, index=True),
    Column("channel", String(10), nullable=False),
    Column("state", String(10), nullable=False, index=True),  # pending, sent, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    # set aside for good (the reason is in last_error): what operators list
    Column("failed_at", UtcDateTime(), nullable=True, index=True),
    UniqueConstraint("notification_id", "channel"),
)

# Events that arrived before their order's `order.placed` (another topic): handled when it comes.
parked = Table(
    "parked",
    metadata,
    Column("event_id", String(40), primary_key=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("event_type", String(100), nullable=False),
    Column("data", JSON, nullable=False),
    Column("parked_at", UtcDateTime(), nullable=False),
)

reminders = Table(
    "reminders",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("kind", String(60), nullable=False),
    Column("order_id", String(40), nullable=False, index=True),
    Column("recipient_id", String(64), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False, index=True),
    Column("state", String(10), nullable=False),  # scheduled, sent, cancelled
)


class Directory:
    """Who can be told things (from the gateway's `principal.registered`) and their orders."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_principal(self, **values: Any) -> None:
        statement = insert_ignoring_duplicates(self.session, principals).values(**values)
        await self.session.execute(statement)

    async def principal(self, principal_id: str) -> Any | None:
        query = select(principals).where(principals.c.id == principal_id)
        return (await self.session.execute(query)).first()

    async def add_order(
        self, order_id: str, buyer_id: str, seller_id: str, facts: dict[str, Any]
    ) -> None:
        statement = insert_ignoring_duplicates(self.session, orders).values(
            order_id=order_id, buyer_id=buyer_id, seller_id=seller_id, facts=facts
        )
        await self.session.execute(statement)

    async def order(self, order_id: str) -> OrderParties | None:
        row = (
            await self.session.execute(select(orders).where(orders.c.order_id == order_id))
        ).first()
        return (
            OrderParties(row.order_id, row.buyer_id, row.seller_id, dict(row.facts))
            if row
            else None
        )

    async def note_on_order(self, order: OrderParties) -> None:
        """Store the facts known of `order` (read earlier in this unit of work)."""
        await self.session.execute(
            update(orders).where(orders.c.order_id == order.order_id).values(facts=order.facts)
        )

    async def preferences(self, principal_id: str) -> Preferences:
        query = select(preferences).where(preferences.c.principal_id == principal_id)
        row = (await self.session.execute(query)).first()
        return Preferences(email=row.email, in_app=row.in_app) if row else Preferences()

    async def set_preferences(self, principal_id: str, chosen: Preferences) -> None:
        query = select(preferences).where(preferences.c.principal_id == principal_id)
        if (await self.session.execute(query)).first() is None:
            await self.session.execute(
                preferences.insert().values(
                    principal_id=principal_id, email=chosen.email, in_app=chosen.in_app
                )
            )
        else:
            await self.session.execute(
                update(preferences)
                .where(preferences.c.principal_id == principal_id)
                .values(email=chosen.email, in_app=chosen.in_app)
            )


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


class NotificationsUnit(UnitOfWork):
    """Notifications' unit of work: its repositories, each built once per unit over the unit's
    session (`uow.directory`)."""

    directory = repository(Directory)
    inbox = repository(Inbox)
    reminders = repository(Reminders)
    parked = repository(Parked)
