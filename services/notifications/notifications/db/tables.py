"""Notifications' tables: principals and their orders, preferences, notifications and their
deliveries per channel, reminders, and events parked until their order is known."""

from __future__ import annotations

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
)

from servicekit.messaging.db import NAMING_CONVENTION, UtcDateTime

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
