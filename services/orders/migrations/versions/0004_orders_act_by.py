"""orders act_by: every status in which someone must act has a deadline, kept in one column

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 21:00:00.000000
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

import servicekit.messaging.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _act_by(row: sa.Row) -> datetime | None:
    """orders.domain.deadline_on_entering as of this revision, with the default settings, for
    orders already waiting (a migration reads no settings and no calendar: business days are
    counted as calendar days plus a weekend, never earlier than the rule)."""
    entered = row.updated_at or row.placed_at
    match row.status:
        case "placed":
            return row.placed_at + timedelta(hours=1)
        case "awaiting_seller":
            return row.accept_by
        case "accepted":
            if row.ship_by is None:
                return None
            return row.ship_by + timedelta(days=5) if row.shipment_overdue else row.ship_by
        case "shipped":
            return row.auto_complete_at or entered + timedelta(days=14)
        case "delivered":
            return row.auto_complete_at
        case "delivery_failed":
            return entered + timedelta(days=7)
        case "return_requested":
            if row.return_pickup_date is None:
                return entered + timedelta(days=14)
            pickup = datetime.combine(row.return_pickup_date, entered.timetz())
            return pickup + timedelta(days=14)
        case "exchange_requested":
            return entered + timedelta(days=row.handling_days + 2)
    return None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("act_by", servicekit.messaging.db.UtcDateTime(), nullable=True)
        )
        batch_op.create_index("ix_orders_act_by", ["act_by"], unique=False)
    moment = servicekit.messaging.db.UtcDateTime
    orders = sa.table(
        "orders",
        sa.column("id", sa.String),
        sa.column("status", sa.String),
        sa.column("placed_at", moment()),
        sa.column("accept_by", moment()),
        sa.column("ship_by", moment()),
        sa.column("shipment_overdue", sa.Boolean),
        sa.column("auto_complete_at", moment()),
        sa.column("return_pickup_date", sa.Date),
        sa.column("handling_days", sa.Integer),
        sa.column("updated_at", moment()),
        sa.column("act_by", moment()),
    )
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(orders).where(
            orders.c.status.in_(
                [
                    "placed",
                    "awaiting_seller",
                    "accepted",
                    "shipped",
                    "delivered",
                    "delivery_failed",
                    "return_requested",
                    "exchange_requested",
                ]
            )
        )
    ).all()
    for row in waiting:
        connection.execute(orders.update().where(orders.c.id == row.id).values(act_by=_act_by(row)))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_act_by")
        batch_op.drop_column("act_by")
