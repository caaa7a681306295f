"""payments: rebooking (#20): a hold kept for support's rebooking after a seller backed out,
and on the replacement order the order it replaces, the platform's cover and the backing-out
seller's charge

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 00:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("kept_for_rebook", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("replaces", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column("cover_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("cover_charged_to", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("cover_charge_minor", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        for column in (
            "cover_charge_minor",
            "cover_charged_to",
            "cover_minor",
            "replaces",
            "kept_for_rebook",
        ):
            batch.drop_column(column)
