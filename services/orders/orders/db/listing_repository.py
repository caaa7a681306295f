"""Listings: stock reserved and given back in one conditional update each."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Money
from orders.db.tables import listings, sellers
from orders.domain import HIDDEN_STANDINGS, Fulfilment, Listing, ListingStatus
from servicekit.messaging.failures import ConcurrentUpdate


def _listing(row: Any) -> Listing:
    return Listing(
        id=row.id,
        seller_id=row.seller_id,
        title=row.title,
        price=Money(amount_minor=row.price_minor, currency=row.currency),
        quantity_available=row.quantity_available,
        fulfilment=Fulfilment(row.fulfilment),
        handling_days=row.handling_days,
        status=ListingStatus(row.status),
        created_at=row.created_at,
        event_date=row.event_date,
        event_id=row.event_id,
        version=row.version,
    )


class Listings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # Listings written in this unit: their facts are published when it commits (#20).
        self.touched: set[str] = set()

    async def changed_facts(self) -> list[Listing]:
        """The listings for a resale event written in this unit, as they now are."""
        if not self.touched:
            return []
        query = select(listings).where(
            listings.c.id.in_(sorted(self.touched)), listings.c.event_id.is_not(None)
        )
        self.touched = set()
        return [_listing(row) for row in (await self.session.execute(query)).all()]

    async def add(self, listing: Listing) -> None:
        self.touched.add(listing.id)
        await self.session.execute(
            insert(listings).values(
                id=listing.id,
                seller_id=listing.seller_id,
                title=listing.title,
                price_minor=listing.price.amount_minor,
                currency=listing.price.currency,
                quantity_available=listing.quantity_available,
                fulfilment=listing.fulfilment.value,
                event_date=listing.event_date,
                event_id=listing.event_id,
                handling_days=listing.handling_days,
                status=listing.status.value,
                created_at=listing.created_at,
                version=listing.version,
            )
        )

    async def get(self, listing_id: str) -> Listing | None:
        row = (
            await self.session.execute(select(listings).where(listings.c.id == listing_id))
        ).first()
        return _listing(row) if row else None

    async def reserve(self, listing_id: str, quantity: int) -> bool:
        """Take `quantity` from an active listing's stock in one statement, so concurrent
        orders cannot oversell it; False if there is not enough left."""
        self.touched.add(listing_id)
        remaining = listings.c.quantity_available - quantity
        result = await self.session.execute(
            update(listings)
            .where(
                listings.c.id == listing_id,
                listings.c.status == ListingStatus.ACTIVE.value,
                listings.c.quantity_available >= quantity,
            )
            .values(
                quantity_available=remaining,
                status=case(
                    (remaining == 0, ListingStatus.SOLD_OUT.value), else_=listings.c.status
                ),
                version=listings.c.version + 1,
            )
        )
        return result.rowcount == 1

    async def give_back(self, listing_id: str, quantity: int) -> None:
        self.touched.add(listing_id)
        await self.session.execute(
            update(listings)
            .where(listings.c.id == listing_id)
            .values(
                quantity_available=listings.c.quantity_available + quantity,
                status=_status_after_restock(),
                version=listings.c.version + 1,
            )
        )

    async def update(self, listing: Listing) -> None:
        """Write `listing` if nobody changed it since it was read."""
        self.touched.add(listing.id)
        result = await self.session.execute(
            update(listings)
            .where(listings.c.id == listing.id, listings.c.version == listing.version)
            .values(
                title=listing.title,
                price_minor=listing.price.amount_minor,
                currency=listing.price.currency,
                quantity_available=listing.quantity_available,
                handling_days=listing.handling_days,
                status=listing.status.value,
                version=listing.version + 1,
            )
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"listing {listing.id} was changed by someone else")

    async def of_event(self, event_id: str, today: date, limit: int = 200) -> list[Listing]:
        """The active listings for an event of sellers whose listings are not hidden,
        cheapest first (prices compared within a currency; the minor amount orders them)."""
        query = (
            select(listings)
            .where(listings.c.event_id == event_id, _visible(today))
            .order_by(listings.c.price_minor, listings.c.created_at, listings.c.id)
            .limit(limit)
        )
        return [_listing(row) for row in (await self.session.execute(query)).all()]

    async def move_event_date(self, event_id: str, event_date: date) -> None:
        """The listings of a postponed event show its new date."""
        await self.session.execute(
            update(listings)
            .where(listings.c.event_id == event_id)
            .values(event_date=event_date, version=listings.c.version + 1)
        )

    async def page(
        self,
        *,
        seller_id: str | None,
        include_hidden: bool,
        today: date,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Listing]:
        query = select(listings)
        if seller_id:
            query = query.where(listings.c.seller_id == seller_id)
        if not include_hidden:
            query = query.where(_visible(today))
        if after:
            created, listing_id = after
            query = query.where(
                or_(
                    listings.c.created_at < created,
                    and_(listings.c.created_at == created, listings.c.id < listing_id),
                )
            )
        query = query.order_by(listings.c.created_at.desc(), listings.c.id.desc()).limit(limit)
        return [_listing(row) for row in (await self.session.execute(query)).all()]


def _visible(today: date) -> Any:
    """Active, of a seller not on vacation, suspended or revoked."""
    return and_(
        listings.c.status == ListingStatus.ACTIVE.value,
        ~exists().where(
            sellers.c.id == listings.c.seller_id,
            or_(sellers.c.standing.in_(HIDDEN_STANDINGS), sellers.c.vacation_until > today),
        ),
    )


def _status_after_restock() -> Any:
    return case(
        (listings.c.status == ListingStatus.SOLD_OUT.value, ListingStatus.ACTIVE.value),
        else_=listings.c.status,
    )
