"""principals: the carrier a carrier principal speaks for, token expiry and revocation;
idempotent requests: an index to purge expired keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import servicekit.messaging.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("principals", sa.Column("carrier", sa.String(length=100), nullable=True))
    op.add_column(
        "principals",
        sa.Column(
            "token_expires_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column(
        "principals",
        sa.Column(
            "token_revoked_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=True
        ),
    )
    op.create_index(
        op.f("ix_idempotent_requests_created_at"),
        "idempotent_requests",
        ["created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotent_requests_created_at"), table_name="idempotent_requests")
    op.drop_column("principals", "token_revoked_at")
    op.drop_column("principals", "token_expires_at")
    op.drop_column("principals", "carrier")
