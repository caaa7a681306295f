"""Who can be told things and their orders: principals, the parties and facts of each order,
and each principal's preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.tables import (
    orders,
    preferences,
    principals,
)
from notifications.domain import OrderParties, Preferences
from servicekit.messaging.db import insert_ignoring_duplicates


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
