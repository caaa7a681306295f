"""support: what support knows of each order's status (`orders.status`, from orders' events),
so a resolution orders could not carry out is refused beforehand; and when a ticket was
resolved (`tickets.resolved_at`), so a resolved ticket closes by itself after a quiet period

Orders placed before this revision have no status until their next order event: resolutions
that move the order answer 409 "not yet known" for them until then.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import servicekit.messaging.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("status", sa.String(length=30), nullable=True))
    op.add_column(
        "tickets",
        sa.Column("resolved_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=True),
    )
    op.create_index(op.f("ix_tickets_resolved_at"), "tickets", ["resolved_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_resolved_at"), table_name="tickets")
    op.drop_column("tickets", "resolved_at")
    op.drop_column("orders", "status")
