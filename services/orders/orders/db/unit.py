"""The unit of work orders opens: its repositories reachable from it."""

from __future__ import annotations

from orders.db.conversation_repository import Messages, Reviews
from orders.db.event_repository import ResaleEvents
from orders.db.listing_repository import Listings
from orders.db.order_repository import Orders
from orders.db.seller_repository import OrderTickets, Sellers
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
