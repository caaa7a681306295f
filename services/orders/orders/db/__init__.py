"""Orders' tables and repositories: the only package that speaks SQL."""

from orders.db.conversation_repository import Messages, Reviews
from orders.db.listing_repository import Listings
from orders.db.order_repository import Orders
from orders.db.seller_repository import OrderTickets, Sellers
from orders.db.tables import (
    listings,
    metadata,
    order_messages,
    order_tickets,
    order_timeline,
    orders,
    resale_events,
    reviews,
    sellers,
)
from orders.db.unit import OrdersUnit

__all__ = [
    "Listings",
    "Messages",
    "OrderTickets",
    "Orders",
    "OrdersUnit",
    "Reviews",
    "Sellers",
    "listings",
    "metadata",
    "order_messages",
    "order_tickets",
    "order_timeline",
    "orders",
    "resale_events",
    "reviews",
    "sellers",
]
