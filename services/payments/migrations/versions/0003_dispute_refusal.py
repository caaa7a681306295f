"""payments: a dispute that does not fit the charge is kept, refused, with the reason

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.add_column(sa.Column("refusal", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.drop_column("refusal")
