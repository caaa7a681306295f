"""Payments' pure rules for capture into escrow and release to the seller."""

from dataclasses import replace

import pytest

from payments import ledger
from payments.domain import (
    Decision,
    OperationKind,
    Payment,
    PaymentRefused,
    PaymentState,
    WaitingRefund,
    capture,
    check_waiting_refund,
    record_capture,
    refund,
    release,
)

from payments_test_helpers import (
    BUYER_CREDIT,
    FEE_BPS,
    LATER,
    NOW,
    SELLER_PAYABLE,
    authorized,
    captured,
    done,
    moved,
    new_payment,
    only_entry,
    only_operation,
    released_payment,
)

# --- capture --------------------------------------------------------------------------------------


def test_capturing_an_authorized_payment_asks_to_capture_the_card_amount():
    payment = authorized(10_000, credit=3_000)

    decision = capture(payment, LATER)

    assert decision.payment == payment  # captured only once Stripe confirms
    operation = only_operation(decision)
    assert operation.kind is OperationKind.CAPTURE
    assert operation.id == f"order:{payment.order_id}:capture"
    assert operation.amount_minor == 7_000
    assert decision.entries == ()


@pytest.mark.parametrize(
    "payment",
    [
        new_payment(10_000),
        authorized(10_000, ended=True),
        authorized(10_000, state=PaymentState.FAILED),
        authorized(10_000, state=PaymentState.VOIDED),
        captured(10_000),
    ],
    ids=["authorizing", "ended", "failed", "voided", "captured"],
)
def test_capturing_a_payment_that_is_not_authorized_or_whose_order_ended_is_refused(payment):
    with pytest.raises(PaymentRefused, match="nothing to capture"):
        capture(payment, LATER)


def test_a_confirmed_capture_puts_the_card_and_the_credit_parts_into_escrow():
    payment = authorized(10_000, credit=3_000)
    operation = done(only_operation(capture(payment, LATER)), at=LATER)

    decision = record_capture(payment, operation, LATER, FEE_BPS)

    assert decision.payment.state is PaymentState.CAPTURED
    assert decision.payment.captured_minor == 10_000
    assert decision.payment.refundable_minor == 10_000
    entry = only_entry(decision)
    assert entry.entry_id == operation.id
    assert moved(entry) == {
        ledger.AUTHORIZATION_HOLD: -7_000,
        ledger.CREDIT_RESERVED: -3_000,
        ledger.ESCROW: 10_000,
    }


def test_a_confirmed_capture_releases_at_once_when_the_order_completed_meanwhile():
    waiting = release(authorized(10_000, credit=3_000), NOW, FEE_BPS).payment
    operation = done(only_operation(capture(waiting, LATER)), at=LATER)

    decision = record_capture(waiting, operation, LATER, FEE_BPS)

    assert decision.payment.state is PaymentState.RELEASED
    assert decision.payment.release_due is False
    escrowed, released = decision.entries
    assert moved(escrowed)[ledger.ESCROW] == 10_000
    assert moved(released) == {
        ledger.ESCROW: -10_000,
        SELLER_PAYABLE: 9_500,
        ledger.PLATFORM_FEES: 500,
    }


def waiting_refund(payment: Payment, amount: int | None, key: str) -> WaitingRefund:
    return WaitingRefund(payment.order_id, key, amount, "Damaged", NOW)


def test_refunds_that_waited_for_the_capture_are_made_before_the_release_that_waited_too():
    waiting = release(authorized(10_000), NOW, FEE_BPS).payment  # completed, not yet captured
    operation = done(only_operation(capture(waiting, LATER)), at=LATER)
    refunds = [waiting_refund(waiting, 2_000, "tkt_1"), waiting_refund(waiting, 3_000, "tkt_2")]

    decision = record_capture(waiting, operation, LATER, FEE_BPS, refunds)

    assert decision.payment.state is PaymentState.RELEASED
    assert decision.payment.refunded_minor == 5_000
    assert [op.kind for op in decision.operations] == [OperationKind.REFUND] * 2
    assert [op.amount_minor for op in decision.operations] == [2_000, 3_000]
    # into escrow, out for each refund, and what is left to the seller and the fee
    assert [moved(e)[ledger.ESCROW] for e in decision.entries] == [10_000, -2_000, -3_000, -5_000]
    assert moved(decision.entries[-1]) == {
        ledger.ESCROW: -5_000,
        SELLER_PAYABLE: 4_750,
        ledger.PLATFORM_FEES: 250,
    }
    assert sum(sum(moved(e).values()) for e in decision.entries) == 0


def test_a_refund_of_everything_that_waited_for_the_capture_leaves_nothing_to_release():
    waiting = release(authorized(10_000, credit=3_000), NOW, FEE_BPS).payment
    operation = done(only_operation(capture(waiting, LATER)), at=LATER)

    decision = record_capture(
        waiting, operation, LATER, FEE_BPS, [waiting_refund(waiting, None, "return")]
    )

    assert decision.payment.state is PaymentState.REFUNDED
    (refund_to_card,) = decision.operations
    assert refund_to_card.amount_minor == 7_000  # the card's part; the credit's goes back as credit
    assert moved(decision.entries[-1])[BUYER_CREDIT] == 3_000


def test_a_refund_waiting_for_the_capture_is_checked_against_what_the_capture_will_hold():
    payment = authorized(10_000)
    first = waiting_refund(payment, 6_000, "tkt_1")
    check_waiting_refund(payment, [], first, NOW)
    with pytest.raises(PaymentRefused, match=r"40\.00 EUR is still refundable"):
        check_waiting_refund(payment, [first], waiting_refund(payment, 5_000, "tkt_2"), NOW)


# --- release --------------------------------------------------------------------------------------


def test_releasing_pays_the_seller_the_escrow_less_the_platform_fee():
    payment = captured(10_000, credit=3_000)

    decision = release(payment, LATER, FEE_BPS)

    released = decision.payment
    assert released.state is PaymentState.RELEASED
    assert released.fee_minor == 500
    assert released.released_minor == 9_500
    assert released.escrow_at_release_minor == 10_000
    assert released.paid_out
    assert decision.operations == ()
    entry = only_entry(decision)
    assert entry.entry_id == f"order:{payment.order_id}:transfer:release"
    assert moved(entry) == {
        ledger.ESCROW: -10_000,
        SELLER_PAYABLE: 9_500,
        ledger.PLATFORM_FEES: 500,
    }


def test_the_platform_fee_is_rounded_down_in_the_sellers_favour():
    decision = release(captured(999), LATER, FEE_BPS)  # 5 % of 9.99 is 0.4995

    assert decision.payment.fee_minor == 49
    assert decision.payment.released_minor == 950
    assert moved(only_entry(decision)) == {
        ledger.ESCROW: -999,
        SELLER_PAYABLE: 950,
        ledger.PLATFORM_FEES: 49,
    }


def test_a_release_without_a_fee_pays_everything_to_the_seller():
    decision = release(captured(10_000), LATER, fee_bps=0)

    assert moved(only_entry(decision)) == {ledger.ESCROW: -10_000, SELLER_PAYABLE: 10_000}


def test_releasing_after_a_partial_refund_pays_only_what_is_left_in_escrow():
    partly = refund(captured(10_000), 2_000, "damaged", "t1", NOW).payment

    decision = release(partly, LATER, FEE_BPS)

    assert decision.payment.escrow_at_release_minor == 8_000
    assert decision.payment.fee_minor == 400
    assert moved(only_entry(decision)) == {
        ledger.ESCROW: -8_000,
        SELLER_PAYABLE: 7_600,
        ledger.PLATFORM_FEES: 400,
    }


@pytest.mark.parametrize("state", [PaymentState.AUTHORIZING, PaymentState.AUTHORIZED])
def test_a_release_before_the_capture_is_confirmed_waits_for_it(state):
    payment = authorized(10_000, state=state)

    decision = release(payment, LATER, FEE_BPS)

    assert decision.payment == replace(payment, release_due=True)
    assert decision.entries == ()
    assert decision.operations == ()


def test_a_payment_is_never_released_twice():
    once = release(captured(10_000), NOW, FEE_BPS)

    again = release(once.payment, LATER, FEE_BPS)

    assert again == Decision(once.payment)


def test_a_payment_released_then_partly_refunded_is_not_released_again():
    refunded_after = refund(released_payment(10_000), 1_000, "late", "t1", NOW).payment
    assert refunded_after.state is PaymentState.PARTIALLY_REFUNDED

    assert release(refunded_after, LATER, FEE_BPS) == Decision(refunded_after)


def test_nothing_is_released_after_a_full_refund():
    refunded_in_full = refund(captured(10_000), None, "returned", "t1", NOW).payment

    decision = release(refunded_in_full, LATER, FEE_BPS)

    assert decision == Decision(refunded_in_full)


@pytest.mark.parametrize("state", [PaymentState.FAILED, PaymentState.VOIDED])
def test_nothing_is_released_for_a_payment_that_was_never_charged(state):
    payment = authorized(10_000, state=state)

    assert release(payment, LATER, FEE_BPS) == Decision(payment)
