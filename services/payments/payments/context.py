"""What payments' handlers, worker and timer share: the database, the clock, Stripe, and the
operators' settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from payments.cards import CardProcessor
from payments.db import PaymentsUnit
from payments.domain import Terms
from payments.payouts import Payouts
from servicekit.domain.clock import Clock
from servicekit.messaging.uow import Database


@dataclass
class PaymentsContext:
    db: Database[PaymentsUnit]
    clock: Clock
    cards: CardProcessor
    payouts: Payouts
    authorization_hold: timedelta
    renew_before: timedelta = timedelta(days=1)
    fee_bps: int = 500
    credit_limit_bps: int = 10_000
    batch_size: int = 50
    wake_worker: Callable[[], None] = lambda: None

    @property
    def terms(self) -> Terms:
        return Terms(self.authorization_hold, self.fee_bps, self.credit_limit_bps)
