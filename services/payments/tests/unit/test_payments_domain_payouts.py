"""Payments' pure rules for paying sellers: the payout run's plan (one payout per seller and
currency of the whole balance, a minimum, a hold for new sellers, claw-backs reversed or
carried, a seller without an account told once) and what Stripe's answer does."""

from datetime import timedelta
from itertools import count

from payments import ledger
from payments.domain.payouts import (
    AccountStatus,
    Payable,
    PayoutPolicy,
    PayoutStatus,
    Reversible,
    account_status,
    account_updated,
    balances,
    payout_failed,
    payout_paid,
    plan_run,
)

from payments_test_helpers import LATER, NOW, SELLER, SELLER_PAYABLE, active_account

OTHER = "usr_other"


def ids():
    numbers = count(1)
    return lambda: str(next(numbers))


def plan(payables, accounts=None, *, reversible=None, told=frozenset(), policy=None, now=LATER):
    accounts = {SELLER: active_account()} if accounts is None else accounts
    return plan_run(
        payables, accounts, reversible or {}, told, policy or PayoutPolicy(), now, ids()
    )


def sums(entries):
    return ledger.balances([line for entry in entries for line in entry.lines])


def test_one_payout_per_seller_and_currency_of_their_whole_balance_moved_per_order():
    run = plan(
        [
            Payable(SELLER, "EUR", "ord_1", 9_500),
            Payable(SELLER, "EUR", "ord_2", 1_900),
            Payable(SELLER, "USD", "ord_3", 700),
        ]
    )

    assert [(p.currency, p.amount_minor, p.order_ids) for p in run.payouts] == [
        ("EUR", 11_400, ["ord_1", "ord_2"]),
        ("USD", 700, ["ord_3"]),
    ]
    assert all(p.status is PayoutStatus.PENDING for p in run.payouts)
    assert {(e.order_id, e.entry_id.split(":")[0]) for e in run.entries} == {
        ("ord_1", run.payouts[0].id),
        ("ord_2", run.payouts[0].id),
        ("ord_3", run.payouts[1].id),
    }
    assert all(sum(line.amount_minor for line in e.lines) == 0 for e in run.entries)
    assert sums(run.entries) == {SELLER_PAYABLE: -12_100, ledger.PAYOUTS: 12_100}


def test_a_second_run_over_the_books_the_first_left_pays_nothing():
    first = plan([Payable(SELLER, "EUR", "ord_1", 9_500)])
    left = sums(first.entries)[SELLER_PAYABLE] + 9_500

    assert left == 0
    assert plan([]).payouts == ()


def test_below_the_minimum_the_balance_waits():
    policy = PayoutPolicy(minimum_minor={"EUR": 10_000})

    kept = plan([Payable(SELLER, "EUR", "ord_1", 9_500)], policy=policy)
    paid = plan(
        [Payable(SELLER, "EUR", "ord_1", 9_500), Payable(SELLER, "EUR", "ord_2", 500)],
        policy=policy,
    )

    assert kept.payouts == () and kept.entries == ()
    assert "minimum" in kept.kept[0][2]
    assert paid.payouts[0].amount_minor == 10_000


def test_a_new_seller_is_held_for_the_days_after_their_account_became_active():
    policy = PayoutPolicy(new_seller_hold=timedelta(days=7))
    account = active_account(activated_at=NOW)
    payable = [Payable(SELLER, "EUR", "ord_1", 9_500)]

    held = plan(payable, {SELLER: account}, policy=policy, now=NOW + timedelta(days=6))
    paid = plan(payable, {SELLER: account}, policy=policy, now=NOW + timedelta(days=7))

    assert held.payouts == () and "held" in held.kept[0][2]
    assert paid.payouts[0].amount_minor == 9_500


def test_a_seller_without_an_active_account_keeps_the_balance_and_is_told_once():
    payable = [Payable(OTHER, "EUR", "ord_1", 9_500)]
    pending = {OTHER: account_updated(active_account(OTHER), AccountStatus.PENDING, NOW)}

    for accounts in (
        {},
        {
            OTHER: active_account(OTHER).__class__(
                **{**active_account(OTHER).__dict__, "status": AccountStatus.RESTRICTED}
            )
        },
        pending,
    ):
        run = plan(payable, accounts)
        assert run.payouts == () and run.entries == ()
        assert [(n.seller_id, n.available.amount_minor) for n in run.needs_account] == [
            (OTHER, 9_500)
        ]

    assert plan(payable, {}, told=frozenset({OTHER})).needs_account == ()


def test_a_claw_back_is_reversed_from_the_transfer_that_paid_the_order():
    paid = Reversible("po_1", "ord_1", 9_500, NOW)

    run = plan([Payable(SELLER, "EUR", "ord_1", -2_000)], reversible={"ord_1": [paid]})

    (reversal,) = run.reversals
    assert (reversal.payout_id, reversal.order_id, reversal.amount_minor) == (
        "po_1",
        "ord_1",
        2_000,
    )
    assert run.payouts == ()
    assert sums(run.entries) == {ledger.PAYOUTS: -2_000, SELLER_PAYABLE: 2_000}


def test_what_cannot_be_reversed_is_debited_from_the_next_payout():
    partly = Reversible("po_1", "ord_1", 500, NOW)

    run = plan(
        [Payable(SELLER, "EUR", "ord_1", -2_000), Payable(SELLER, "EUR", "ord_2", 9_500)],
        reversible={"ord_1": [partly]},
    )

    assert [r.amount_minor for r in run.reversals] == [500]
    (payout,) = run.payouts
    assert payout.amount_minor == 8_000
    assert [(line.order_id, line.amount_minor) for line in payout.lines] == [
        ("ord_1", -1_500),
        ("ord_2", 9_500),
    ]
    # 500 reversed back to what the seller owes, then 8,000 paid out of it
    assert sums(run.entries) == {SELLER_PAYABLE: -7_500, ledger.PAYOUTS: 7_500}


def test_a_negative_balance_with_nothing_to_reverse_is_carried_not_paid():
    run = plan([Payable(SELLER, "EUR", "ord_1", -2_000), Payable(SELLER, "EUR", "ord_2", 1_000)])

    assert run.payouts == () and run.entries == ()
    assert "carried" in run.kept[0][2]


def test_a_paid_payout_publishes_what_was_paid_and_a_refused_one_owes_the_seller_again():
    (payout,) = plan([Payable(SELLER, "EUR", "ord_1", 9_500)]).payouts

    paid = payout_paid(payout, "tr_1", LATER)
    failed = payout_failed(payout, "no transfers capability", LATER)

    assert (paid.payout.status, paid.payout.transfer_id, paid.entries) == (
        PayoutStatus.PAID,
        "tr_1",
        (),
    )
    assert paid.event.amount.amount_minor == 9_500 and paid.event.order_ids == ["ord_1"]
    assert failed.payout.status is PayoutStatus.FAILED
    assert sums(failed.entries) == {ledger.PAYOUTS: -9_500, SELLER_PAYABLE: 9_500}
    assert failed.event.reason == "no transfers capability"


def test_an_account_is_active_once_stripe_pays_out_to_it_and_remembers_when():
    assert account_status(payouts_enabled=True, details_submitted=True) is AccountStatus.ACTIVE
    assert account_status(payouts_enabled=False, details_submitted=True) is AccountStatus.RESTRICTED
    assert account_status(payouts_enabled=False, details_submitted=False) is AccountStatus.PENDING
    pending = account_updated(active_account(activated_at=None), AccountStatus.PENDING, NOW)
    active = account_updated(pending, AccountStatus.ACTIVE, LATER)
    again = account_updated(
        account_updated(active, AccountStatus.RESTRICTED, LATER),
        AccountStatus.ACTIVE,
        LATER + timedelta(days=1),
    )

    assert (pending.activated_at, active.activated_at, again.activated_at) == (None, LATER, LATER)


def test_balances_per_currency_from_the_ledgers_sums():
    found = balances({"EUR": 4_000}, {"EUR": 9_500, "USD": -200}, {"EUR": 19_000})

    assert [
        (b.currency, b.in_escrow_minor, b.available_minor, b.paid_out_minor) for b in found
    ] == [
        ("EUR", 4_000, 9_500, 19_000),
        ("USD", 0, -200, 0),
    ]
