"""The unit of work payments opens: its repositories reachable from it."""

from __future__ import annotations

from payments.db.dispute_repository import Disputes, Webhooks
from payments.db.ledger_repository import CreditBalances, Ledger
from payments.db.operation_repository import Operations, WaitingRefunds
from payments.db.payment_repository import Payments
from payments.db.payout_repository import (
    PayoutAccounts,
    PayoutBooks,
    PayoutReversals,
    SellerPayouts,
)
from servicekit.messaging.uow import UnitOfWork, repository


class PaymentsUnit(UnitOfWork):
    """Payments' unit of work: its repositories, each built once per unit over the unit's
    session (`uow.payments`)."""

    payments = repository(Payments)
    operations = repository(Operations)
    waiting_refunds = repository(WaitingRefunds)
    ledger = repository(Ledger)
    credit_balances = repository(CreditBalances)
    disputes = repository(Disputes)
    webhooks = repository(Webhooks)
    payout_accounts = repository(PayoutAccounts)
    payouts = repository(SellerPayouts)
    payout_reversals = repository(PayoutReversals)
    payout_books = repository(PayoutBooks)
