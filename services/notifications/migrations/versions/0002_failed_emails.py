"""notifications: e-mails set aside for good carry when, so operators can list them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import servicekit.messaging.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "failed_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(batch_op.f("ix_deliveries_failed_at"), ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_failed_at"))
        batch_op.drop_column("failed_at")
