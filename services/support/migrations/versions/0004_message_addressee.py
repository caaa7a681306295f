"""support: an agent's reply addressed to one party (`ticket_messages.to_role`, "buyer" or
"seller"), seen by that party only. Messages written before have none: both parties saw them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket_messages", sa.Column("to_role", sa.String(length=10), nullable=True))


def downgrade() -> None:
    op.drop_column("ticket_messages", "to_role")
