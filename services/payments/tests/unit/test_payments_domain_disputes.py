"""Payments' pure rules for disputes as Stripe reports them and the chargebacks they make."""

from dataclasses import replace

import pytest

from payments import ledger
from payments.domain import (
    PaymentState,
    capture,
    dispute_amount,
    dispute_closed,
    dispute_opened,
    open_dispute,
    record_capture,
    refund,
    release,
    win_dispute,
)

from payments_test_helpers import (
    FEE_BPS,
    LATER,
    NOW,
    SELLER_PAYABLE,
    authorized,
    captured,
    done,
    moved,
    only_entry,
    only_operation,
    released_payment,
)

# --- disputes as Stripe reports them ------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "why"),
    [
        (-500_000, "eur", "not positive"),
        (0, "eur", "not positive"),
        (10_001, "eur", "more than the 100.00 EUR"),
        (10_000, "usd", "in 'usd', the charge in EUR"),
        ("100", "eur", "not a whole number"),
        (True, "eur", "not a whole number"),
        (None, "eur", "not a whole number"),
    ],
)
def test_a_dispute_that_does_not_fit_the_charge_is_refused(amount, currency, why):
    taken, refusal = dispute_amount(captured(10_000), amount, currency)
    assert taken == 0
    assert refusal is not None and why in refusal


def test_a_dispute_within_the_charge_takes_its_amount():
    assert dispute_amount(captured(10_000), 10_000, "eur") == (10_000, None)
    assert dispute_amount(captured(10_000, charged_back_minor=6_000), 4_000, "EUR") == (4_000, None)
    taken, refusal = dispute_amount(captured(10_000, charged_back_minor=6_000), 4_001, "EUR")
    assert (taken, "more than the 40.00 EUR" in (refusal or "")) == (0, True)


def test_a_dispute_after_a_full_refund_takes_nothing():
    refunded = refund(captured(10_000), None, "damaged", "t1", NOW).payment

    taken, refusal = dispute_amount(refunded, 10_000, "eur")

    assert taken == 0
    assert refusal is not None and "already had" in refusal and "refunded" in refusal


def test_a_dispute_after_a_partial_refund_takes_only_what_the_order_still_holds():
    refunded = refund(captured(10_000), 3_000, "damaged", "t1", NOW).payment

    taken, refusal = dispute_amount(refunded, 10_000, "eur")

    assert taken == 7_000
    assert (
        refusal is not None
        and "30.00 EUR of the dispute's 100.00 EUR was already refunded" in refusal
    )
    assert dispute_amount(refunded, 7_000, "eur") == (7_000, None)


@pytest.mark.parametrize("refunded_minor", [0, 3_000, 10_000])
def test_a_dispute_never_leaves_escrow_below_zero(refunded_minor):
    payment = authorized(10_000)
    entries = [
        only_entry(
            record_capture(payment, done(only_operation(capture(payment, NOW))), NOW, FEE_BPS)
        )
    ]
    payment = replace(payment, state=PaymentState.CAPTURED, captured_minor=10_000)
    if refunded_minor:
        refunded = refund(payment, refunded_minor, "damaged", "t1", NOW)
        entries += refunded.entries
        payment = refunded.payment

    taken, _ = dispute_amount(payment, 10_000, "eur")
    disputed = open_dispute(payment, "dp_1", taken, LATER)
    entries += disputed.entries

    totals = ledger.balances([line for entry in entries for line in entry.lines])
    assert totals.get(ledger.ESCROW, 0) == 0
    assert totals.get(ledger.CHARGEBACKS, 0) == 10_000 - refunded_minor
    assert disputed.payment.refundable_minor == 0


def test_after_the_payout_a_dispute_is_claimed_from_the_seller_up_to_what_was_not_refunded():
    paid_out = released_payment(10_000)
    partly = refund(paid_out, 4_000, "damaged", "t1", NOW).payment
    fully = refund(paid_out, None, "damaged", "t1", NOW).payment

    assert dispute_amount(paid_out, 10_000, "eur") == (10_000, None)
    assert dispute_amount(partly, 10_000, "eur")[0] == 6_000
    assert dispute_amount(fully, 10_000, "eur")[0] == 0
    entry = only_entry(open_dispute(partly, "dp_1", 6_000, LATER))
    assert moved(entry) == {SELLER_PAYABLE: -6_000, ledger.CHARGEBACKS: 6_000}


# --- chargebacks ----------------------------------------------------------------------------------


def test_a_chargeback_opened_before_release_takes_the_money_out_of_escrow():
    opened = open_dispute(captured(10_000), "dp_1", 10_000, LATER)
    entry = only_entry(opened)

    assert opened.payment.refundable_minor == 0
    assert entry.entry_id == "dispute:dp_1:opened"
    assert moved(entry) == {ledger.ESCROW: -10_000, ledger.CHARGEBACKS: 10_000}


def test_a_chargeback_won_before_release_puts_the_money_back_into_escrow():
    disputed = open_dispute(captured(10_000), "dp_1", 10_000, NOW).payment
    won = win_dispute(disputed, "dp_1", 10_000, LATER)
    entry = only_entry(won)

    assert won.payment.refundable_minor == 10_000
    assert entry.entry_id == "dispute:dp_1:won"
    assert moved(entry) == {ledger.CHARGEBACKS: -10_000, ledger.ESCROW: 10_000}


def test_a_chargeback_opened_after_release_is_taken_back_from_the_seller():
    entry = only_entry(open_dispute(released_payment(10_000), "dp_1", 4_000, LATER))

    assert moved(entry) == {SELLER_PAYABLE: -4_000, ledger.CHARGEBACKS: 4_000}


def test_a_chargeback_won_after_release_gives_the_money_back_to_the_seller():
    entry = only_entry(win_dispute(released_payment(10_000), "dp_1", 4_000, LATER))

    assert moved(entry) == {ledger.CHARGEBACKS: -4_000, SELLER_PAYABLE: 4_000}


def test_a_chargeback_of_nothing_writes_no_entry():
    assert open_dispute(captured(10_000), "dp_1", 0, LATER).entries == ()


def test_a_release_after_a_chargeback_never_pays_out_more_than_is_in_escrow():
    payment = authorized(10_000)
    captured_entry = only_entry(
        record_capture(payment, done(only_operation(capture(payment, NOW))), NOW, FEE_BPS)
    )
    payment = replace(payment, state=PaymentState.CAPTURED, captured_minor=10_000)
    disputed = open_dispute(payment, "dp_1", 10_000, NOW)
    chargeback = only_entry(disputed)
    payment = disputed.payment

    released = release(payment, LATER, FEE_BPS)

    entries = [captured_entry, chargeback, *released.entries]
    totals = ledger.balances([line for entry in entries for line in entry.lines])
    assert totals.get(ledger.ESCROW, 0) >= 0
    assert totals.get(SELLER_PAYABLE, 0) == 0


# --- closing (#18): what the events tell orders and support ---------------------------------


def test_a_stolen_cards_chargeback_is_marked_fraud_when_it_opens_and_closes():
    opened = dispute_opened(captured(10_000), "dp_1", 10_000, "fraudulent", NOW)
    [told] = opened.events
    assert told.fault == "fraud"
    closed = dispute_closed(opened.payment, "dp_1", 10_000, False, LATER, "fraudulent")
    [ended] = closed.events
    assert (ended.outcome, ended.fault, ended.reason) == ("lost", "fraud", "fraudulent")


def test_a_chargeback_lost_in_full_leaves_nothing_in_escrow_and_nothing_refundable():
    opened = dispute_opened(captured(10_000), "dp_1", 10_000, "product_not_received", NOW)
    closed = dispute_closed(opened.payment, "dp_1", 10_000, False, LATER, "product_not_received")

    [ended] = closed.events
    assert ended.refundable.amount_minor == 0  # orders ends the order refunded
    assert ended.fault is None
    lines = [line for entry in (*opened.entries, *closed.entries) for line in entry.lines]
    assert ledger.balances(lines) == {ledger.ESCROW: -10_000, ledger.CHARGEBACKS: 10_000}
