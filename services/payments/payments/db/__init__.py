"""Payments' tables and repositories: the only package that speaks SQL."""

from payments.db.dispute_repository import Disputes, Webhooks
from payments.db.ledger_repository import CreditBalances, Ledger
from payments.db.operation_repository import Operations, WaitingRefunds
from payments.db.payment_repository import Payments
from payments.db.tables import (
    credit_balances,
    disputes,
    ledger_lines,
    metadata,
    operations,
    payments,
    refunds_waiting,
    webhook_events,
)
from payments.db.unit import PaymentsUnit

__all__ = [
    "CreditBalances",
    "Disputes",
    "Ledger",
    "Operations",
    "Payments",
    "PaymentsUnit",
    "WaitingRefunds",
    "Webhooks",
    "credit_balances",
    "disputes",
    "ledger_lines",
    "metadata",
    "operations",
    "payments",
    "refunds_waiting",
    "webhook_events",
]
