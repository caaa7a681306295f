"""Orders' tables (the migrations create them; the repositories read and write them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from servicekit.messaging.db import NAMING_CONVENTION, BigId, UtcDateTime

metadata = MetaData(naming_convention=NAMING_CONVENTION)

listings = Table(
    "listings",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("quantity_available", Integer, nullable=False),
    Column("fulfilment", String(20), nullable=False),
    Column("event_date", Date, nullable=True),
    # The ResaleEvent a transfer listing is for (#20); None: a bare event_date, as v1 allowed.
    Column("event_id", String(40), nullable=True, index=True),
    Column("handling_days", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

# Events that tickets and hotel bookings are resold for (orders.domain.resale_events).
resale_events = Table(
    "resale_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("venue", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("utc_offset_minutes", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("cancel_reason", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("listing_id", String(40), ForeignKey("listings.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("fulfilment", String(20), nullable=False),
    Column("handling_days", Integer, nullable=False),
    Column("payment_method", String(100), nullable=False),
    Column("status", String(30), nullable=False),
    Column("payment_state", String(30), nullable=False),
    Column("placed_at", UtcDateTime(), nullable=False),
    Column("accept_by", UtcDateTime(), nullable=False),
    Column("shipping_address", JSON, nullable=True),
    Column("event_date", Date, nullable=True),
    # A transfer order for a ResaleEvent (#20): the event's id, its snapshot (follows a
    # postponement), whose name the ticket or booking is put in, and when the buyer confirmed
    # it before the money could be released.
    Column("event_id", String(40), nullable=True, index=True),
    Column("event", JSON, nullable=True),
    Column("recipient", JSON, nullable=True),
    Column("receipt_confirmed_at", UtcDateTime(), nullable=True),
    Column("authorized_minor", BigInteger, nullable=True),
    Column("captured_minor", BigInteger, nullable=True),
    Column("released_minor", BigInteger, nullable=True),
    Column("refunded_minor", BigInteger, nullable=True),
    Column("cancel_reason", String(200), nullable=True),
    Column("accepted_at", UtcDateTime(), nullable=True),
    Column("ship_by", UtcDateTime(), nullable=True),
    Column("shipment_overdue", Boolean, nullable=False, default=False),
    Column("shipped_at", UtcDateTime(), nullable=True),
    Column("carrier", String(100), nullable=True),
    # The carrier as compared (orders.domain.carrier_key): a parcel is (carrier, number).
    Column("carrier_key", String(100), nullable=True),
    Column("tracking_number", String(100), nullable=True, index=True),
    Column("transfer_reference", String(200), nullable=True),
    Column("delivery_attempts", Integer, nullable=False, default=0),
    Column("redelivery_date", Date, nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("auto_complete_at", UtcDateTime(), nullable=True),
    Column("return_until", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("problem", String(50), nullable=True),
    Column("return_pickup_date", Date, nullable=True),
    # When someone must have acted in the order's status (orders.domain.deadline_on_entering).
    Column("act_by", UtcDateTime(), nullable=True),
    # A rebooking (#20): the order this one replaces, and the one that replaced it.
    Column("replaces", String(40), nullable=True),
    Column("replaced_by", String(40), nullable=True),
    Column("reviewed", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_orders_buyer", "buyer_id", "placed_at"),
    Index("ix_orders_seller", "seller_id", "placed_at"),
    Index("ix_orders_status_accept_by", "status", "accept_by"),
    Index("ix_orders_status_ship_by", "status", "ship_by"),
    Index("ix_orders_status_auto_complete_at", "status", "auto_complete_at"),
    Index("ix_orders_parcel", "carrier_key", "tracking_number"),
    Index("ix_orders_act_by", "act_by"),
)

order_timeline = Table(
    "order_timeline",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("detail", String(500), nullable=False),
)


order_messages = Table(
    "order_messages",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),  # posting order
    Column("id", String(40), nullable=False, unique=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("sender_id", String(64), nullable=False),
    Column("sender_role", String(20), nullable=False),
    Column("body", String(4000), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("buyer_id", String(64), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("text", String(4000), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

sellers = Table(
    "sellers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("vacation_until", Date, nullable=True),
    Column("standing", String(20), nullable=False, default="good"),
    Column("updated_at", UtcDateTime(), nullable=False),
)


# Support's tickets on each order, as support publishes them (for the order view).
order_tickets = Table(
    "order_tickets",
    metadata,
    Column("ticket_id", String(40), primary_key=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("reason", String(40), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
