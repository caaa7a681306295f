"""What the buyer and the seller say: messages and reviews."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.db.tables import order_messages, reviews
from orders.domain import Message, Review


class Messages:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, message: Message) -> None:
        values = {k: v for k, v in asdict(message).items() if k != "seq"}
        await self.session.execute(insert(order_messages).values(**values))

    async def for_order(
        self, order_id: str, *, limit: int = 200, after_seq: int | None = None
    ) -> list[Message]:
        """Messages in posting order; `after_seq` continues after a message."""
        query = select(order_messages).where(order_messages.c.order_id == order_id)
        if after_seq is not None:
            query = query.where(order_messages.c.seq > after_seq)
        rows = await self.session.execute(query.order_by(order_messages.c.seq).limit(limit))
        return [
            Message(
                row.id,
                row.order_id,
                row.sender_id,
                row.sender_role,
                row.body,
                row.sent_at,
                row.seq,
            )
            for row in rows
        ]


class Reviews:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, review: Review) -> None:
        await self.session.execute(insert(reviews).values(**asdict(review)))
