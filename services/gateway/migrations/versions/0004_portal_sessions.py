"""portal sessions: kept on the server, the browser holds only a random id

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import servicekit.messaging.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=40), nullable=False),
        sa.Column("sealed_token", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_used_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("expires_at", servicekit.messaging.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_portal_sessions")),
    )
    op.create_index(
        op.f("ix_portal_sessions_expires_at"), "portal_sessions", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_portal_sessions_principal_id"), "portal_sessions", ["principal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_sessions_principal_id"), table_name="portal_sessions")
    op.drop_index(op.f("ix_portal_sessions_expires_at"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
