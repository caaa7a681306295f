"""What orders keeps of others' facts: sellers' vacation and standing, support's tickets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orders.db.tables import order_tickets, sellers
from orders.domain import Seller


class Sellers:
    """Orders' local view of sellers: vacation and the standing seller standards publishes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, seller_id: str) -> Seller:
        row = (await self.session.execute(select(sellers).where(sellers.c.id == seller_id))).first()
        if row is None:
            return Seller(seller_id)
        return Seller(row.id, row.vacation_until, row.standing)

    async def set_vacation(self, seller_id: str, until: date | None, now: datetime) -> None:
        await self._upsert(seller_id, now, vacation_until=until)

    async def set_standing(self, seller_id: str, standing: str, now: datetime) -> None:
        await self._upsert(seller_id, now, standing=standing)

    async def _upsert(self, seller_id: str, now: datetime, **column: Any) -> None:
        """Set one column, creating the seller's row if needed; the other column is left as
        it is, so a vacation change cannot undo a standing that arrived meanwhile."""
        dialect = self.session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_(sellers).values(id=seller_id, updated_at=now, **column)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[sellers.c.id], set_={**column, "updated_at": now}
            )
        )


class OrderTickets:
    """Support's tickets on orders: opened, escalated, resolved."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def opened(self, **values: Any) -> None:
        dialect = self.session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(insert_(order_tickets).values(**values).on_conflict_do_nothing())

    async def changed(self, ticket_id: str, now: datetime, **values: Any) -> None:
        await self.session.execute(
            update(order_tickets)
            .where(order_tickets.c.ticket_id == ticket_id)
            .values(**values, updated_at=now)
        )

    async def of_order(self, order_id: str) -> list[dict[str, Any]]:
        query = (
            select(order_tickets)
            .where(order_tickets.c.order_id == order_id)
            .order_by(order_tickets.c.opened_at)
        )
        return [
            {
                "id": row.ticket_id,
                "reason": row.reason,
                "priority": row.priority,
                "status": row.status,
                "opened_at": row.opened_at.isoformat(),
            }
            for row in (await self.session.execute(query)).all()
        ]
