"""The unit of work orders opens: its repositories reachable from it."""

from __future__ import annotations

from datetime import datetime

from contracts.orders import ListingUpdated
from orders.db.conversation_repository import Messages, Reviews
from orders.db.event_repository import ResaleEvents
from orders.db.listing_repository import Listings
from orders.db.order_repository import Orders
from orders.db.seller_repository import OrderTickets, Sellers
from orders.domain import Listing
from servicekit.messaging.uow import UnitOfWork, repository


class OrdersUnit(UnitOfWork):
    """Orders' unit of work: its repositories, each built once per unit over the unit's
    session (`uow.orders`)."""

    orders = repository(Orders)
    listings = repository(Listings)
    sellers = repository(Sellers)
    order_tickets = repository(OrderTickets)
    messages = repository(Messages)
    reviews = repository(Reviews)
    events = repository(ResaleEvents)

    async def commit(self) -> None:
        """Commit, with the facts of every resale event's listing written in this unit
        (`listing.updated`: created, changed, stock taken or given back), so support knows
        an event's listings without asking orders (#20)."""
        built = self.__dict__.get("listings")
        if isinstance(built, Listings):
            now = self.clock.now()
            for listing in await built.changed_facts():
                self.emit(listing_updated(listing, now))
        await super().commit()


def listing_updated(listing: Listing, at: datetime) -> ListingUpdated:
    assert listing.event_id is not None
    return ListingUpdated(
        listing_id=listing.id,
        seller_id=listing.seller_id,
        event_id=listing.event_id,
        price=listing.price,
        quantity_available=listing.quantity_available,
        status=listing.status.value,  # type: ignore[arg-type]
        version=listing.version,
        occurred_at=at,
    )
