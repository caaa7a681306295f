"""What payments' handlers, worker and timer share: the database, the clock, Stripe, and the
operators' settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from payments.cards import CardProcessor
from payments.db import PaymentsUnit
from payments.domain import Terms
from payments.domain.payouts import PayoutPolicy
from payments.domain.rebooking import RebookCharge
from payments.payouts import Connect
from servicekit.domain.clock import Clock
from servicekit.messaging.uow import Database


@dataclass
class PaymentsContext:
    db: Database[PaymentsUnit]
    clock: Clock
    cards: CardProcessor
    connect: Connect
    authorization_hold: timedelta
    renew_before: timedelta = timedelta(days=1)
    fee_bps: int = 500
    credit_limit_bps: int = 10_000
    rebook_charge: RebookCharge = field(default_factory=RebookCharge)
    batch_size: int = 50
    wake_worker: Callable[[], None] = lambda: None
    payout_policy: PayoutPolicy = field(default_factory=PayoutPolicy)
    payout_interval: timedelta = timedelta(days=1)
    onboarding_return_url: str = "http://127.0.0.1:8000/portal/payouts"
    wake_payouts: Callable[[], None] = lambda: None

    @property
    def terms(self) -> Terms:
        return Terms(self.authorization_hold, self.fee_bps, self.credit_limit_bps)
