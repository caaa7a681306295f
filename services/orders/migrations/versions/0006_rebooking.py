"""rebooking (#20): an order placed by support's `rebook` names the order it replaces, and
that order the one replacing it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 00:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("replaces", sa.String(length=40), nullable=True))
    op.add_column("orders", sa.Column("replaced_by", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "replaced_by")
    op.drop_column("orders", "replaces")
