"""support: order_money, what each order's money allows (total, what payments holds, the
refunds and credits support decided), so a resolution payments cannot carry out is refused

Orders placed before this revision have their total copied from `orders`; what payments holds
for them arrives with their next payment event, and until then a refund on them answers 409
"not yet known".

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_money",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("total_minor", sa.BigInteger(), nullable=True),
        sa.Column("authorized_minor", sa.BigInteger(), nullable=False),
        sa.Column("authorization_failed", sa.Boolean(), nullable=False),
        sa.Column("shipped", sa.Boolean(), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("capture_failed", sa.Boolean(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("released_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("charged_back_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunds_decided_minor", sa.BigInteger(), nullable=False),
        sa.Column("credits_decided_minor", sa.BigInteger(), nullable=False),
        sa.Column("payments_credit_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_money")),
    )
    op.execute(
        """
        INSERT INTO order_money (order_id, currency, total_minor, authorized_minor,
            authorization_failed, shipped, captured_minor, capture_failed, voided, released_minor,
            refunded_minor, charged_back_minor, refunds_decided_minor, credits_decided_minor,
            version)
        SELECT order_id, currency, total_minor, 0, false, false, 0, false, false, 0, 0, 0, 0, 0, 0
        FROM orders
        """
    )


def downgrade() -> None:
    op.drop_table("order_money")
