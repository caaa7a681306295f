"""orders parcel: a parcel is (carrier, tracking number), so orders keep the carrier as compared

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _carrier_key(name: str) -> str:
    # orders.domain.carrier_key as of this revision (a migration does not import the app).
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(character for character in folded if character.isalnum())


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carrier_key", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_orders_parcel", ["carrier_key", "tracking_number"], unique=False)
    orders = sa.table(
        "orders",
        sa.column("id", sa.String),
        sa.column("carrier", sa.String),
        sa.column("carrier_key", sa.String),
    )
    connection = op.get_bind()
    shipped = connection.execute(
        sa.select(orders.c.id, orders.c.carrier).where(orders.c.carrier.is_not(None))
    ).all()
    for order_id, carrier in shipped:
        connection.execute(
            orders.update().where(orders.c.id == order_id).values(carrier_key=_carrier_key(carrier))
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_parcel")
        batch_op.drop_column("carrier_key")
