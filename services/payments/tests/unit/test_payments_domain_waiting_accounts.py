"""Money waiting for a seller's payout account has a deadline and an outcome (#18): a seller
whose account is missing, pending or restricted is told once, reminded after
`remind_after` and every `remind_every` while the money waits, and an agent gets a ticket
(`payment.payout_account_overdue`) `ticket_after` the first notice. Each run sends what fell
due since the previous one: nothing twice, nothing lost to a missed run."""

from datetime import timedelta
from itertools import count

from contracts.payments import PayoutAccountNeeded, PayoutAccountOverdue
from payments.domain.payouts import AccountStatus, Payable, PayoutPolicy, account_updated, plan_run
from payments.domain.waiting_accounts import Chase

from payments_test_helpers import NOW, SELLER, active_account

DAY = timedelta(days=1)
CHASE = Chase(remind_after=7 * DAY, remind_every=7 * DAY, ticket_after=30 * DAY)
PAYABLE = [Payable(SELLER, "EUR", "ord_1", 9_500)]
RESTRICTED = {SELLER: account_updated(active_account(), AccountStatus.RESTRICTED, NOW)}


def run(day: float, previous_day: float | None, accounts=RESTRICTED):
    """A run on `day` after the seller was told (at NOW), the previous one on `previous_day`."""
    numbers = count(1)
    return plan_run(
        PAYABLE,
        accounts,
        {},
        frozenset({SELLER}),
        PayoutPolicy(chase=CHASE),
        NOW + day * DAY,
        lambda: str(next(numbers)),
        told_at={SELLER: NOW},
        last_run=None if previous_day is None else NOW + previous_day * DAY,
    )


def kinds(plan):
    return [
        (type(event).__name__, getattr(event, "reminder", None), event.available.amount_minor)
        for event in plan.chased
    ]


def test_nothing_more_until_the_first_reminder_is_due():
    assert run(6, 5).chased == ()


def test_the_seller_is_reminded_after_n_days_then_every_period_once_each():
    assert kinds(run(7, 6)) == [("PayoutAccountNeeded", 1, 9_500)]
    assert run(8, 7).chased == ()  # the same reminder is not sent twice
    assert kinds(run(14.5, 13)) == [("PayoutAccountNeeded", 2, 9_500)]
    [reminder] = run(21, 20).chased
    assert isinstance(reminder, PayoutAccountNeeded)
    assert reminder.waiting_since == NOW and reminder.reminder == 3


def test_a_missed_run_sends_the_latest_reminder_once():
    assert kinds(run(23, 5)) == [("PayoutAccountNeeded", 3, 9_500)]


def test_an_agent_gets_a_ticket_m_days_after_the_first_notice_once():
    plan = run(30, 29)
    assert [type(event) for event in plan.chased] == [PayoutAccountOverdue]
    [overdue] = plan.chased
    assert (overdue.seller_id, overdue.waiting_since) == (SELLER, NOW)
    assert run(31, 30).chased == ()


def test_an_active_account_is_paid_and_chased_no_more():
    plan = run(30, 29, accounts={SELLER: active_account()})
    assert plan.chased == () and len(plan.payouts) == 1
