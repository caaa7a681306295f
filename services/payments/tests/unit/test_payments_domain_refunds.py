"""Payments' pure rules for refunds (to the card, to credit, clawed back after a payout), goodwill
credit, and a refund before anything was captured."""

import pytest

from contracts import Money
from payments import ledger
from payments.domain import (
    CardOutcome,
    OperationKind,
    Payment,
    PaymentRefused,
    PaymentState,
    clawed_back,
    creditable_minor,
    goodwill_credit,
    record_refund,
    refund,
    refund_before_capture,
    release,
)

from payments_test_helpers import (
    BUYER,
    BUYER_CREDIT,
    FEE_BPS,
    LATER,
    NOW,
    SELLER_PAYABLE,
    authorized,
    captured,
    done,
    eur,
    moved,
    new_payment,
    only_entry,
    only_operation,
    released_payment,
)

# --- refunds --------------------------------------------------------------------------------------


def test_a_full_refund_before_release_returns_the_whole_escrow_to_the_card():
    payment = captured(10_000)

    decision = refund(payment, None, "The item was returned", "return", LATER)

    refunded = decision.payment
    assert refunded.state is PaymentState.REFUNDED
    assert refunded.refunded_minor == 10_000
    assert refunded.refunded_to_card_minor == 10_000
    assert refunded.refundable_minor == 0
    operation = only_operation(decision)
    assert operation.kind is OperationKind.REFUND
    assert operation.id == f"order:{payment.order_id}:refund:return"
    assert operation.amount_minor == 10_000
    assert operation.reason == "The item was returned"
    entry = only_entry(decision)
    assert entry.entry_id == f"{operation.id}:decided"
    assert moved(entry) == {ledger.ESCROW: -10_000, ledger.REFUNDS_PENDING: 10_000}


def test_a_partial_refund_leaves_the_rest_refundable():
    decision = refund(captured(10_000), 2_500, "scratched", "t1", LATER)

    assert decision.payment.state is PaymentState.PARTIALLY_REFUNDED
    assert decision.payment.refunded_minor == 2_500
    assert decision.payment.refundable_minor == 7_500
    assert only_operation(decision).amount_minor == 2_500
    assert moved(only_entry(decision)) == {ledger.ESCROW: -2_500, ledger.REFUNDS_PENDING: 2_500}


def test_partial_refunds_adding_up_to_the_total_make_the_payment_refunded():
    first = refund(captured(10_000), 4_000, "scratched", "t1", NOW)

    second = refund(first.payment, 6_000, "returned", "t2", LATER)

    assert first.payment.state is PaymentState.PARTIALLY_REFUNDED
    assert second.payment.state is PaymentState.REFUNDED
    assert only_operation(first).id != only_operation(second).id


@pytest.mark.parametrize("amount", [10_001, 0, -100])
def test_refunding_more_than_was_captured_or_nothing_at_all_is_refused(amount):
    with pytest.raises(PaymentRefused, match="still refundable"):
        refund(captured(10_000), amount, "oops", "t1", LATER)


def test_refunding_more_than_is_left_after_an_earlier_refund_is_refused():
    partly = refund(captured(10_000), 7_000, "scratched", "t1", NOW).payment

    with pytest.raises(PaymentRefused, match=r"30\.00 EUR is still refundable"):
        refund(partly, 3_001, "more", "t2", LATER)


@pytest.mark.parametrize(
    "payment",
    [
        new_payment(10_000),
        authorized(10_000),
        authorized(10_000, state=PaymentState.FAILED),
        authorized(10_000, state=PaymentState.VOIDED),
        captured(10_000, state=PaymentState.REFUNDED, refunded_minor=10_000),
    ],
    ids=["authorizing", "authorized", "failed", "voided", "refunded"],
)
def test_refunding_a_payment_with_nothing_captured_left_is_refused(payment):
    with pytest.raises(PaymentRefused):
        refund(payment, None, "returned", "t1", LATER)


def test_a_refund_of_an_order_partly_paid_by_credit_goes_to_the_card_first():
    payment = captured(10_000, credit=3_000)  # card paid 7,000

    decision = refund(payment, 5_000, "scratched", "t1", LATER)

    assert decision.payment.refunded_to_card_minor == 5_000
    assert only_operation(decision).amount_minor == 5_000
    assert moved(only_entry(decision)) == {ledger.ESCROW: -5_000, ledger.REFUNDS_PENDING: 5_000}


def test_a_refund_beyond_what_the_card_paid_returns_the_rest_to_the_buyers_credit():
    payment = captured(10_000, credit=3_000)

    decision = refund(payment, None, "returned", "t1", LATER)

    assert decision.payment.refunded_to_card_minor == 7_000
    assert only_operation(decision).amount_minor == 7_000
    assert moved(only_entry(decision)) == {
        ledger.ESCROW: -10_000,
        ledger.REFUNDS_PENDING: 7_000,
        BUYER_CREDIT: 3_000,
    }


def test_a_second_refund_returns_to_the_card_only_what_the_first_left_on_it():
    first = refund(captured(10_000, credit=3_000), 6_000, "scratched", "t1", NOW)

    second = refund(first.payment, 3_000, "returned", "t2", LATER)

    assert second.payment.refunded_to_card_minor == 7_000
    assert only_operation(second).amount_minor == 1_000
    assert moved(only_entry(second)) == {
        ledger.ESCROW: -3_000,
        ledger.REFUNDS_PENDING: 1_000,
        BUYER_CREDIT: 2_000,
    }


def test_a_refund_of_an_order_paid_entirely_by_credit_goes_back_to_the_credit():
    decision = refund(captured(10_000, credit=10_000), 4_000, "scratched", "t1", LATER)

    assert only_operation(decision).amount_minor == 0
    assert moved(only_entry(decision)) == {ledger.ESCROW: -4_000, BUYER_CREDIT: 4_000}


def test_a_refund_after_release_claws_back_the_sellers_share_and_returns_the_fee():
    payment = released_payment(10_000)  # seller 9,500, fee 500

    decision = refund(payment, 2_000, "damaged", "t1", LATER)

    assert clawed_back(payment, 2_000) == 1_900
    assert decision.payment.state is PaymentState.PARTIALLY_REFUNDED
    assert only_operation(decision).amount_minor == 2_000
    assert moved(only_entry(decision)) == {
        SELLER_PAYABLE: -1_900,
        ledger.PLATFORM_FEES: -100,
        ledger.REFUNDS_PENDING: 2_000,
    }


def test_a_full_refund_after_release_takes_back_exactly_the_sellers_share_and_the_fee():
    payment = released_payment(10_000, credit=3_000)

    decision = refund(payment, None, "returned", "t1", LATER)

    assert decision.payment.state is PaymentState.REFUNDED
    assert moved(only_entry(decision)) == {
        SELLER_PAYABLE: -9_500,
        ledger.PLATFORM_FEES: -500,
        ledger.REFUNDS_PENDING: 7_000,
        BUYER_CREDIT: 3_000,
    }


def test_a_refund_after_a_release_of_a_partly_refunded_order_uses_the_escrow_actually_released():
    partly = refund(captured(10_000), 2_000, "scratched", "t1", NOW).payment
    payment = release(partly, NOW, FEE_BPS).payment  # 8,000 released: seller 7,600, fee 400

    decision = refund(payment, None, "returned", "t2", LATER)

    assert clawed_back(payment, 8_000) == 7_600
    assert decision.payment.state is PaymentState.REFUNDED
    assert moved(only_entry(decision)) == {
        SELLER_PAYABLE: -7_600,
        ledger.PLATFORM_FEES: -400,
        ledger.REFUNDS_PENDING: 8_000,
    }


def test_nothing_is_clawed_back_from_a_seller_who_was_not_paid_yet():
    assert clawed_back(captured(10_000), 5_000) == 0


def test_a_full_refund_in_pieces_after_release_returns_the_whole_fee():
    payment = released_payment(999)  # fee 49, seller 950
    entries = []
    for key in ("t1", "t2", "t3"):
        decision = refund(payment, 333, "damaged", key, LATER)
        payment = decision.payment
        entries += decision.entries

    assert payment.state is PaymentState.REFUNDED
    totals = ledger.balances([line for entry in entries for line in entry.lines])
    assert totals.get(ledger.PLATFORM_FEES, 0) == -49  # the 49 taken at release, all of it
    assert totals.get(SELLER_PAYABLE, 0) == -950  # the 950 paid at release, no more


def test_a_confirmed_refund_moves_the_money_from_pending_to_refunded():
    decision = refund(captured(10_000), 2_500, "scratched", "t1", NOW)
    operation = done(only_operation(decision), CardOutcome(True, stripe_id="re_1"), LATER)

    confirmed = record_refund(decision.payment, operation, LATER)

    assert confirmed.payment == decision.payment
    entry = only_entry(confirmed)
    assert entry.entry_id == operation.id
    assert moved(entry) == {ledger.REFUNDS_PENDING: -2_500, ledger.REFUNDS: 2_500}


def test_a_confirmed_refund_of_nothing_on_the_card_writes_no_entry():
    decision = refund(captured(10_000, credit=10_000), None, "returned", "t1", NOW)

    assert record_refund(decision.payment, done(only_operation(decision)), LATER).entries == ()


# --- goodwill credit ------------------------------------------------------------------------------


CREDIT_LIMIT_BPS = 10_000  # the order's total


def credit(payment: Payment, amount: int, *, credited: int = 0, limit_bps=CREDIT_LIMIT_BPS):
    return goodwill_credit(
        payment, credited, limit_bps, BUYER, eur(amount), "late delivery", "tkt_1", NOW
    )


def test_a_goodwill_credit_moves_money_from_the_marketplace_to_the_buyers_credit():
    payment = captured(10_000)
    order_id = payment.order_id

    entry = credit(payment, 1_500)

    assert entry.entry_id == f"order:{order_id}:credit:tkt_1"
    assert entry.order_id == order_id
    assert entry.currency == "EUR"
    assert entry.reason == "Goodwill credit: late delivery"
    assert moved(entry) == {ledger.GOODWILL: -1_500, BUYER_CREDIT: 1_500}


@pytest.mark.parametrize("amount", [0, -1_500])
def test_a_goodwill_credit_must_be_positive(amount):
    with pytest.raises(PaymentRefused, match="positive"):
        credit(captured(10_000), amount)


def test_goodwill_credit_on_an_order_is_at_most_its_total_all_tickets_together():
    payment = captured(12_500)
    assert moved(credit(payment, 12_500))[BUYER_CREDIT] == 12_500
    assert moved(credit(payment, 2_500, credited=10_000))[BUYER_CREDIT] == 2_500
    with pytest.raises(PaymentRefused, match="at most 12500 more"):
        credit(payment, 10**15 - 1)  # the largest Money allows
    with pytest.raises(PaymentRefused, match="at most 2500 more"):
        credit(payment, 2_501, credited=10_000)
    assert creditable_minor(payment, 10_000, CREDIT_LIMIT_BPS) == 2_500


def test_operators_may_allow_more_credit_than_the_total():
    payment = captured(10_000)
    assert moved(credit(payment, 15_000, limit_bps=15_000))[BUYER_CREDIT] == 15_000
    with pytest.raises(PaymentRefused, match="at most 0 more"):
        credit(payment, 1, limit_bps=0)


def test_goodwill_credit_goes_to_the_orders_buyer_in_the_orders_currency():
    payment = captured(10_000)
    with pytest.raises(PaymentRefused, match="not bought by usr_other"):
        goodwill_credit(payment, 0, CREDIT_LIMIT_BPS, "usr_other", eur(100), "x", "tkt_1", NOW)
    usd = Money(amount_minor=100, currency="USD")
    with pytest.raises(PaymentRefused, match="in EUR, the credit in USD"):
        goodwill_credit(payment, 0, CREDIT_LIMIT_BPS, BUYER, usd, "x", "tkt_1", NOW)


# --- a refund before anything was captured ----------------------------------------------------


def test_a_refund_before_capture_voids_the_hold_with_the_tickets_reason():
    payment = authorized(10_000, credit=2_000)
    decision = refund_before_capture(payment, None, None, NOW, "Support ticket tkt_1: broken")
    void = only_operation(decision)
    assert (void.kind, void.amount_minor, void.reason) == (
        OperationKind.VOID,
        8_000,
        "Support ticket tkt_1: broken",
    )
    assert decision.payment.ended
    assert refund_before_capture(payment, None, 10_000, NOW, "whole").operations


@pytest.mark.parametrize("amount", [1, 9_999, 10_001])
def test_a_refund_of_part_of_an_uncaptured_order_is_refused(amount):
    with pytest.raises(PaymentRefused, match=r"only the whole 100\.00 EUR"):
        refund_before_capture(authorized(10_000), None, amount, NOW, "part")


@pytest.mark.parametrize("state", [PaymentState.FAILED, PaymentState.VOIDED])
def test_a_refund_of_an_order_that_holds_nothing_is_refused(state):
    with pytest.raises(PaymentRefused, match="nothing was captured"):
        refund_before_capture(new_payment(10_000, state=state), None, None, NOW, "x")
