"""support: a projection of resale events' listings (orders' `listing.updated`, #20), the
alternatives offered when a seller backs out

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 00:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_listings",
        sa.Column("listing_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity_available", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("listing_id", name=op.f("pk_event_listings")),
    )
    op.create_index(
        op.f("ix_event_listings_event_id"), "event_listings", ["event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_listings_event_id"), table_name="event_listings")
    op.drop_table("event_listings")
