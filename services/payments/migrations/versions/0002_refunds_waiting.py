"""payments: refunds decided while their order's capture was at Stripe wait for it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import servicekit.messaging.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refunds_waiting",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("refund_key", sa.String(length=100), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "requested_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("order_id", "refund_key", name=op.f("pk_refunds_waiting")),
    )


def downgrade() -> None:
    op.drop_table("refunds_waiting")
