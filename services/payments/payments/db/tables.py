"""Payments' tables: what each row holds (the repositories beside this read and write them)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text

from servicekit.messaging.db import NAMING_CONVENTION, UtcDateTime

metadata = MetaData(naming_convention=NAMING_CONVENTION)

payments = Table(
    "payments",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("payment_method", String(100), nullable=False),
    Column("state", String(30), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("credit_applied_minor", BigInteger, nullable=False),
    Column("payment_intent_id", String(100), nullable=True, index=True),
    Column("authorized_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True, index=True),
    Column("failure_reason", String(500), nullable=True),
    Column("decline_code", String(100), nullable=True),
    Column("captured_minor", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("refunded_to_card_minor", BigInteger, nullable=False),
    Column("charged_back_minor", BigInteger, nullable=False),
    Column("released_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("escrow_at_release_minor", BigInteger, nullable=False),
    Column("refunded_at_release_minor", BigInteger, nullable=False),
    Column("ended", Boolean, nullable=False),
    Column("release_due", Boolean, nullable=False),
    Column("reauthorizations", Integer, nullable=False),
    Column("expiry_escalated", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("customer_id", String(100), nullable=True),  # the Stripe Customer keeping the card
    Column("next_action", Text, nullable=True),  # JSON: what the buyer must do (3-D Secure)
    # A rebooking (#20): the hold waits for it; the new order's first order, cover and charge.
    Column("kept_for_rebook", Boolean, nullable=False, default=False),
    Column("replaces", String(40), nullable=True),
    Column("cover_minor", BigInteger, nullable=False, default=0),
    Column("cover_charged_to", String(64), nullable=True),
    Column("cover_charge_minor", BigInteger, nullable=False, default=0),
)

# Every call to Stripe, recorded before it is made: the id is the idempotency key.
operations = Table(
    "operations",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("payment_intent_id", String(100), nullable=True),
    Column("stripe_id", String(100), nullable=True),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("failure", String(500), nullable=True),
)

ledger_lines = Table(
    "ledger_lines",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("entry_id", String(160), nullable=False, index=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("account", String(100), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("reason", String(500), nullable=False),
)

credit_balances = Table(
    "credit_balances",
    metadata,
    Column("buyer_id", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("balance_minor", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

disputes = Table(
    "disputes",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(100), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    # Why a dispute that does not fit the charge was refused (status "refused")
    Column("refusal", String(500), nullable=True),
)

refunds_waiting = Table(
    "refunds_waiting",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("refund_key", String(100), primary_key=True),
    Column("amount_minor", BigInteger, nullable=True),
    Column("reason", String(500), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
)

# A seller's Stripe Connect account (Express), created at their request.
payout_accounts = Table(
    "payout_accounts",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("account_id", String(100), nullable=False, unique=True),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("activated_at", UtcDateTime(), nullable=True),
    Column("onboarding_url", String(1000), nullable=True),
)

# A payout run's transfer to one seller in one currency; written (pending) before Stripe is
# asked, its id the transfer's idempotency key and transfer_group.
payouts = Table(
    "payouts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("account_id", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("lines", String(), nullable=False),  # JSON [[order_id, amount_minor], ...]
    Column("created_at", UtcDateTime(), nullable=False),
    Column("paid_at", UtcDateTime(), nullable=True),
    Column("transfer_id", String(100), nullable=True),
    Column("failure", String(500), nullable=True),
)

# A claw-back taken from a paid payout's transfer (a transfer reversal) for one order.
payout_reversals = Table(
    "payout_reversals",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("payout_id", String(64), nullable=False, index=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("seller_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("reversal_id", String(100), nullable=True),
    Column("failure", String(500), nullable=True),
)

# Sellers told that money waits for them to set up a payout account (told once), and when
# the scheduled run last ran.
payout_notices = Table(
    "payout_notices",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("told_at", UtcDateTime(), nullable=False),
)

payout_runs = Table(
    "payout_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("payouts", Integer, nullable=False),
)
