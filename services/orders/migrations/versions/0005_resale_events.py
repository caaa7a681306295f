"""resale events (#20): events that tickets and bookings are resold for; listings name one;
transfer orders keep its snapshot, the recipient, and an early confirmation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 23:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

import servicekit.messaging.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = servicekit.messaging.db.UtcDateTime
    op.create_table(
        "resale_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starts_at", moment(), nullable=False),
        sa.Column("ends_at", moment(), nullable=False),
        sa.Column("utc_offset_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("updated_at", moment(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resale_events")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_listings_event_id"), ["event_id"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("event", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("recipient", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("receipt_confirmed_at", moment(), nullable=True))
        batch_op.create_index(batch_op.f("ix_orders_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_event_id"))
        batch_op.drop_column("receipt_confirmed_at")
        batch_op.drop_column("recipient")
        batch_op.drop_column("event")
        batch_op.drop_column("event_id")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listings_event_id"))
        batch_op.drop_column("event_id")
    op.drop_table("resale_events")
