"""Money waiting for a seller's payout account (#18): a run that first finds it tells the
seller (`payouts.plan_run`); then the seller is reminded `remind_after` that notice and every
`remind_every` after it, and `ticket_after` the notice an agent gets a ticket (support opens
one about the seller on `payment.payout_account_overdue`). It ends when the account is active
and a run pays the seller.

Kept without state of its own: each run sends what fell due between the previous run and now
(`payout_runs`), so no reminder is sent twice and one that fell due while no run ran is sent
once, by the next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts import Event, Money
from contracts.payments import PayoutAccountNeeded, PayoutAccountOverdue


@dataclass(frozen=True)
class Chase:
    """The operators' settings (PAYMENTS_PAYOUT_ACCOUNT_*_DAYS)."""

    remind_after: timedelta = timedelta(days=7)
    remind_every: timedelta = timedelta(days=7)  # zero: one reminder only
    ticket_after: timedelta = timedelta(days=30)


def chased(
    seller_id: str,
    available: Money,
    told_at: datetime,
    since: datetime | None,
    now: datetime,
    chase: Chase,
) -> tuple[Event, ...]:
    """What falls due in the window (`since`, `now`] for a seller told at `told_at` whose
    money still waits: the latest reminder due in it (one, even if a run was missed), and the
    agent's ticket once."""
    start = since if since is not None and since > told_at else told_at
    events: list[Event] = []
    first = told_at + chase.remind_after
    if now >= first:
        due = 0 if chase.remind_every <= timedelta(0) else (now - first) // chase.remind_every
        latest = first + due * chase.remind_every
        if latest > start:
            events.append(
                PayoutAccountNeeded(
                    seller_id=seller_id,
                    available=available,
                    noticed_at=now,
                    reminder=due + 1,
                    waiting_since=told_at,
                )
            )
    ticket_at = told_at + chase.ticket_after
    if start < ticket_at <= now:
        events.append(
            PayoutAccountOverdue(
                seller_id=seller_id, available=available, waiting_since=told_at, noticed_at=now
            )
        )
    return tuple(events)
