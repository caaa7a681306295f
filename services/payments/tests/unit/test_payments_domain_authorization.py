"""Payments' pure rules for placing an order's payment, authorizing the card, ending the order
before capture (a void) and renewing a hold about to lapse."""

from dataclasses import replace
from datetime import timedelta

import pytest

from payments import ledger
from payments.domain import (
    CardOutcome,
    Decision,
    OperationKind,
    OperationState,
    PaymentState,
    end_before_capture,
    place,
    record_authorization,
    record_renewal,
    record_void,
    renew,
    renewal_due,
)

from payments_test_helpers import (
    APPROVED,
    BUYER_CREDIT,
    HOLD,
    LATER,
    NOW,
    authorized,
    captured,
    done,
    moved,
    new_payment,
    only_entry,
    only_operation,
)

# --- placement ------------------------------------------------------------------------------------


def test_placing_an_order_without_credit_authorizes_the_whole_total_on_the_card():
    payment = new_payment(10_000)

    decision = place(payment, credit_balance_minor=0, now=NOW)

    assert decision.payment.state is PaymentState.AUTHORIZING
    assert decision.payment.credit_applied_minor == 0
    assert decision.payment.card_minor == 10_000
    authorize = only_operation(decision)
    assert authorize.kind is OperationKind.AUTHORIZE
    assert authorize.id == f"order:{payment.order_id}:authorize"
    assert authorize.amount_minor == 10_000
    assert authorize.currency == "EUR"
    assert authorize.state is OperationState.PENDING
    assert authorize.created_at == NOW
    assert decision.entries == ()  # no credit is set aside


def test_placing_an_order_spends_credit_smaller_than_the_total_and_the_card_pays_the_rest():
    payment = new_payment(10_000)

    decision = place(payment, credit_balance_minor=3_000, now=NOW)

    assert decision.payment.credit_applied_minor == 3_000
    assert decision.payment.card_minor == 7_000
    assert only_operation(decision).amount_minor == 7_000
    reservation = only_entry(decision)
    assert reservation.entry_id == f"order:{payment.order_id}:authorize:credit"
    assert reservation.order_id == payment.order_id
    assert reservation.currency == "EUR"
    assert reservation.at == NOW
    assert moved(reservation) == {BUYER_CREDIT: -3_000, ledger.CREDIT_RESERVED: 3_000}


def test_placing_an_order_with_credit_equal_to_the_total_leaves_nothing_for_the_card():
    decision = place(new_payment(10_000), credit_balance_minor=10_000, now=NOW)

    assert decision.payment.credit_applied_minor == 10_000
    assert decision.payment.card_minor == 0
    assert only_operation(decision).amount_minor == 0
    assert moved(only_entry(decision)) == {BUYER_CREDIT: -10_000, ledger.CREDIT_RESERVED: 10_000}


def test_placing_an_order_with_more_credit_than_the_total_spends_only_the_total():
    decision = place(new_payment(10_000), credit_balance_minor=25_000, now=NOW)

    assert decision.payment.credit_applied_minor == 10_000
    assert decision.payment.card_minor == 0
    assert moved(only_entry(decision)) == {BUYER_CREDIT: -10_000, ledger.CREDIT_RESERVED: 10_000}


def test_placing_an_order_with_a_negative_credit_balance_spends_no_credit():
    decision = place(new_payment(10_000), credit_balance_minor=-500, now=NOW)

    assert decision.payment.credit_applied_minor == 0
    assert only_operation(decision).amount_minor == 10_000
    assert decision.entries == ()


# --- authorization --------------------------------------------------------------------------------


def test_an_approved_authorization_holds_the_card_amount_until_the_hold_expires():
    placed = place(new_payment(10_000), 3_000, NOW)
    authorize_outcome = CardOutcome(True, payment_intent_id="pi_42")
    authorize = done(only_operation(placed), authorize_outcome)

    decision = record_authorization(placed.payment, authorize, authorize_outcome, NOW, HOLD)

    payment = decision.payment
    assert payment.state is PaymentState.AUTHORIZED
    assert payment.payment_intent_id == "pi_42"
    assert payment.authorized_at == NOW
    assert payment.expires_at == NOW + HOLD
    assert decision.operations == ()
    hold = only_entry(decision)
    assert hold.entry_id == authorize.id
    assert moved(hold) == {ledger.BUYER_CARD: -7_000, ledger.AUTHORIZATION_HOLD: 7_000}


def test_an_approved_authorization_of_an_order_paid_entirely_by_credit_holds_nothing():
    placed = place(new_payment(10_000), 10_000, NOW)

    decision = record_authorization(
        placed.payment, done(only_operation(placed)), APPROVED, NOW, HOLD
    )

    assert decision.payment.state is PaymentState.AUTHORIZED
    assert decision.entries == ()


def test_a_declined_authorization_fails_the_payment_and_gives_the_credit_back():
    placed = place(new_payment(10_000), 3_000, NOW)
    declined = CardOutcome(
        False,
        payment_intent_id="pi_9",
        reason="Your card was declined.",
        decline_code="do_not_honor",
    )
    authorize = done(only_operation(placed), declined)

    decision = record_authorization(placed.payment, authorize, declined, NOW, HOLD)

    payment = decision.payment
    assert payment.state is PaymentState.FAILED
    assert payment.failure_reason == "Your card was declined."
    assert payment.decline_code == "do_not_honor"
    assert payment.payment_intent_id == "pi_9"
    assert payment.expires_at is None
    assert decision.operations == ()
    returned = only_entry(decision)
    assert returned.entry_id == f"{authorize.id}:failed"
    assert moved(returned) == {ledger.CREDIT_RESERVED: -3_000, BUYER_CREDIT: 3_000}


def test_a_declined_authorization_without_a_reason_is_recorded_as_declined_and_moves_nothing():
    placed = place(new_payment(10_000), 0, NOW)
    declined = CardOutcome(False)

    decision = record_authorization(
        placed.payment, done(only_operation(placed), declined), declined, NOW, HOLD
    )

    assert decision.payment.state is PaymentState.FAILED
    assert decision.payment.failure_reason == "declined"
    assert decision.entries == ()


def test_an_authorization_answer_for_a_payment_no_longer_authorizing_changes_nothing():
    payment = authorized(10_000)
    authorize = done(payment.operation(OperationKind.AUTHORIZE, 10_000, NOW))

    decision = record_authorization(payment, authorize, APPROVED, LATER, HOLD)

    assert decision == Decision(payment)


def test_an_approval_arriving_after_the_order_ended_is_voided_at_once():
    placed = place(new_payment(10_000), 3_000, NOW)
    authorize = only_operation(placed).started(NOW)
    ended = end_before_capture(placed.payment, authorize, NOW).payment  # Stripe is being asked

    decision = record_authorization(ended, done(authorize), APPROVED, NOW, HOLD)

    assert decision.payment.ended
    void = only_operation(decision)
    assert void.kind is OperationKind.VOID
    assert void.id == f"order:{ended.order_id}:void"
    assert void.amount_minor == 7_000


def test_an_approval_arriving_after_the_order_ended_still_records_the_hold_to_be_voided():
    placed = place(new_payment(10_000), 3_000, NOW)
    authorize = only_operation(placed).started(NOW)
    ended = end_before_capture(placed.payment, authorize, NOW).payment

    decision = record_authorization(ended, done(authorize), APPROVED, NOW, HOLD)

    assert decision.payment.state is PaymentState.AUTHORIZED
    assert decision.payment.ended
    assert moved(decision.entries[0]) == {
        ledger.BUYER_CARD: -7_000,
        ledger.AUTHORIZATION_HOLD: 7_000,
    }


# --- ending an order before capture ---------------------------------------------------------------


def test_ending_an_order_whose_authorization_was_never_sent_skips_it_and_returns_the_credit():
    placed = place(new_payment(10_000), 3_000, NOW)
    pending = only_operation(placed)

    decision = end_before_capture(placed.payment, pending, LATER)

    assert decision.payment.state is PaymentState.VOIDED
    assert decision.payment.ended
    skipped = only_operation(decision)
    assert skipped.id == pending.id
    assert skipped.state is OperationState.SKIPPED
    assert skipped.finished_at == LATER
    returned = only_entry(decision)
    assert returned.entry_id == f"{pending.id}:skipped"
    assert moved(returned) == {ledger.CREDIT_RESERVED: -3_000, BUYER_CREDIT: 3_000}


def test_ending_an_order_without_credit_whose_authorization_was_never_sent_moves_no_money():
    placed = place(new_payment(10_000), 0, NOW)

    decision = end_before_capture(placed.payment, only_operation(placed), LATER)

    assert decision.payment.state is PaymentState.VOIDED
    assert decision.entries == ()


def test_ending_an_order_while_stripe_is_being_asked_only_flags_the_payment_as_ended():
    placed = place(new_payment(10_000), 3_000, NOW)
    started = only_operation(placed).started(NOW)

    decision = end_before_capture(placed.payment, started, LATER)

    assert decision.payment == replace(placed.payment, ended=True)
    assert decision.payment.state is PaymentState.AUTHORIZING
    assert decision.operations == ()
    assert decision.entries == ()


def test_ending_an_order_with_no_authorization_on_record_only_flags_the_payment_as_ended():
    placed = place(new_payment(10_000), 0, NOW)

    decision = end_before_capture(placed.payment, None, LATER)

    assert decision == Decision(replace(placed.payment, ended=True))


def test_ending_an_authorized_order_asks_to_void_the_card_amount():
    payment = authorized(10_000, credit=3_000)

    decision = end_before_capture(payment, None, LATER)

    assert decision.payment.ended
    assert decision.payment.state is PaymentState.AUTHORIZED  # until Stripe confirms the void
    void = only_operation(decision)
    assert void.kind is OperationKind.VOID
    assert void.id == f"order:{payment.order_id}:void"
    assert void.amount_minor == 7_000
    assert void.payment_intent_id == "pi_1"
    assert decision.entries == ()


def test_ending_an_authorized_order_twice_asks_for_one_void():
    first = end_before_capture(authorized(10_000), None, NOW)

    second = end_before_capture(first.payment, None, LATER)

    assert len(first.operations) == 1
    assert second == Decision(first.payment)


@pytest.mark.parametrize(
    "state",
    [
        PaymentState.CAPTURED,
        PaymentState.RELEASED,
        PaymentState.FAILED,
        PaymentState.VOIDED,
        PaymentState.REFUNDED,
    ],
)
def test_ending_an_order_past_authorization_leaves_the_payment_unchanged(state):
    payment = captured(10_000, state=state)

    assert end_before_capture(payment, None, LATER) == Decision(payment)


def test_a_confirmed_void_releases_the_hold_and_returns_the_credit():
    ending = end_before_capture(authorized(10_000, credit=3_000), None, NOW)
    void = done(only_operation(ending))

    decision = record_void(ending.payment, void, LATER)

    assert decision.payment.state is PaymentState.VOIDED
    hold_released, credit_returned = decision.entries
    assert hold_released.entry_id == void.id
    assert moved(hold_released) == {ledger.AUTHORIZATION_HOLD: -7_000, ledger.BUYER_CARD: 7_000}
    assert credit_returned.entry_id == f"{void.id}:credit"
    assert moved(credit_returned) == {ledger.CREDIT_RESERVED: -3_000, BUYER_CREDIT: 3_000}


def test_a_confirmed_void_of_an_order_without_credit_only_releases_the_hold():
    ending = end_before_capture(authorized(10_000), None, NOW)

    decision = record_void(ending.payment, done(only_operation(ending)), LATER)

    assert moved(only_entry(decision)) == {
        ledger.AUTHORIZATION_HOLD: -10_000,
        ledger.BUYER_CARD: 10_000,
    }


# --- renewal of an authorization about to lapse ---------------------------------------------------


def test_an_authorization_lapsing_within_the_margin_is_due_for_renewal():
    payment = authorized(10_000)  # expires at NOW + 7 days

    assert not renewal_due(payment, NOW + timedelta(days=5), margin=timedelta(days=1))
    assert renewal_due(payment, NOW + timedelta(days=6), margin=timedelta(days=1))


def test_no_renewal_is_due_for_an_ended_escalated_or_credit_only_authorization():
    late = NOW + timedelta(days=7)
    margin = timedelta(days=1)

    assert not renewal_due(authorized(10_000, ended=True), late, margin)
    assert not renewal_due(authorized(10_000, expiry_escalated=True), late, margin)
    assert not renewal_due(authorized(10_000, credit=10_000), late, margin)
    assert not renewal_due(captured(10_000), late, margin)


def test_a_renewal_reauthorizes_the_card_amount_under_a_new_numbered_id():
    payment = authorized(10_000, credit=3_000, reauthorizations=1)

    operation = renew(payment, LATER)

    assert operation.kind is OperationKind.REAUTHORIZE
    assert operation.id == f"order:{payment.order_id}:reauthorize:2"
    assert operation.amount_minor == 7_000


def test_a_successful_renewal_extends_the_hold_and_a_failed_one_is_escalated():
    payment = authorized(10_000)

    renewed = record_renewal(payment, CardOutcome(True, payment_intent_id="pi_2"), LATER, HOLD)
    failed = record_renewal(payment, CardOutcome(False, reason="declined"), LATER, HOLD)

    assert renewed.payment_intent_id == "pi_2"
    assert renewed.expires_at == LATER + HOLD
    assert renewed.reauthorizations == 1
    assert failed.expiry_escalated
    assert failed.expires_at == NOW + HOLD
