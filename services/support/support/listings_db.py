"""Support's projection of resale events' listings (#20), from orders' `listing.updated`:
what a ticket about a seller backing out offers as alternatives, without asking orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Integer, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Money
from servicekit.messaging.db import insert_ignoring_duplicates
from support.db import metadata
from support.domain.alternatives import ListingFact

# Created by migration 0005 (migrations/env.py imports this module so the table is declared).

event_listings = Table(
    "event_listings",
    metadata,
    Column("listing_id", String(40), primary_key=True),
    Column("event_id", String(40), nullable=False, index=True),
    Column("seller_id", String(64), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("quantity_available", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
)


def _fact(row: Any) -> ListingFact:
    return ListingFact(
        listing_id=row.listing_id,
        seller_id=row.seller_id,
        event_id=row.event_id,
        price=Money(amount_minor=row.price_minor, currency=row.currency),
        quantity_available=row.quantity_available,
        status=row.status,
        version=row.version,
    )


class EventListings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keep(self, fact: ListingFact) -> None:
        """Remember the listing as `fact` says, unless a later version is known already."""
        values = {
            "event_id": fact.event_id,
            "seller_id": fact.seller_id,
            "price_minor": fact.price.amount_minor,
            "currency": fact.price.currency,
            "quantity_available": fact.quantity_available,
            "status": fact.status,
            "version": fact.version,
        }
        await self.session.execute(
            insert_ignoring_duplicates(self.session, event_listings).values(
                listing_id=fact.listing_id, **values
            )
        )
        await self.session.execute(
            update(event_listings)
            .where(
                event_listings.c.listing_id == fact.listing_id,
                event_listings.c.version < fact.version,
            )
            .values(**values)
        )

    async def of_event(self, event_id: str) -> list[ListingFact]:
        query = select(event_listings).where(event_listings.c.event_id == event_id)
        return [_fact(row) for row in (await self.session.execute(query)).all()]
