"""payments: the Stripe Customer the order's card is kept on (off-session renewals), and what
the buyer must do when the card asks for them (3-D Secure)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("customer_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("next_action", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("next_action")
        batch.drop_column("customer_id")
