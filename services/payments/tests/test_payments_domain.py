"""Payments' pure rules, without a database or Stripe: how much the card and the buyer's credit
pay for an order, which card operations each fact asks for, the state a payment is in after it,
and where every cent lands in the double-entry ledger (escrow, the seller, the platform's fees,
refunds, credits and chargebacks)."""

from dataclasses import replace
from datetime import timedelta

import pytest

from contracts import Money
from payments import ledger
from payments.domain import (
    CardOutcome,
    Decision,
    Operation,
    OperationKind,
    OperationState,
    Payment,
    PaymentRefused,
    PaymentState,
    WaitingRefund,
    capture,
    check_waiting_refund,
    clawed_back,
    creditable_minor,
    dispute_amount,
    end_before_capture,
    goodwill_credit,
    open_dispute,
    payout,
    place,
    record_authorization,
    record_capture,
    record_payout,
    record_refund,
    record_renewal,
    record_void,
    refund,
    refund_before_capture,
    release,
    renew,
    renewal_due,
    win_dispute,
)
from payments.ledger import Entry, Line, UnbalancedEntry

from payments_test_helpers import NOW, eur, new_order_id

HOLD = timedelta(days=7)
FEE_BPS = 500  # 5 %
BUYER = "usr_buyer"
SELLER = "usr_seller"
BUYER_CREDIT = ledger.buyer_credit(BUYER)
SELLER_PAYABLE = ledger.seller_payable(SELLER)
LATER = NOW + timedelta(days=3)
APPROVED = CardOutcome(succeeded=True, payment_intent_id="pi_1")


# --- builders -------------------------------------------------------------------------------------


def new_payment(total: int = 10_000, **changes) -> Payment:
    """A payment as the order placed it, before `place` decided how it is paid."""
    payment = Payment(
        order_id=new_order_id(),
        buyer_id=BUYER,
        seller_id=SELLER,
        currency="EUR",
        total_minor=total,
        payment_method="pm_card_visa",
        state=PaymentState.AUTHORIZING,
        created_at=NOW,
        correlation_id="corr-test",
    )
    return replace(payment, **changes)


def authorized(total: int = 10_000, credit: int = 0, **changes) -> Payment:
    """Authorized on the card for what the credit does not pay."""
    fields = {
        "credit_applied_minor": credit,
        "state": PaymentState.AUTHORIZED,
        "payment_intent_id": "pi_1",
        "authorized_at": NOW,
        "expires_at": NOW + HOLD,
    }
    return new_payment(total, **(fields | changes))


def captured(total: int = 10_000, credit: int = 0, **changes) -> Payment:
    """Captured into escrow, nothing refunded nor released yet."""
    fields = {"state": PaymentState.CAPTURED, "captured_minor": total}
    return authorized(total, credit, **(fields | changes))


def released_payment(total: int = 10_000, credit: int = 0, fee_bps: int = FEE_BPS) -> Payment:
    return release(captured(total, credit), NOW, fee_bps).payment


def done(operation: Operation, outcome: CardOutcome = APPROVED, at=NOW) -> Operation:
    """`operation` as the worker leaves it once Stripe answered."""
    return operation.started(at).finished(outcome, at)


def moved(entry: Entry | None) -> dict[str, int]:
    """What an entry does to each account, e.g. {"escrow": -100, "platform_fees": 100}."""
    assert entry is not None
    return ledger.balances(list(entry.lines))


def only_entry(decision: Decision) -> Entry:
    assert len(decision.entries) == 1, decision.entries
    return decision.entries[0]


def only_operation(decision: Decision) -> Operation:
    assert len(decision.operations) == 1, decision.operations
    return decision.operations[0]


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


def test_a_payout_transfers_the_sellers_share_out_of_what_they_are_owed():
    payment = released_payment(10_000)

    transfer = payout(payment, LATER)
    decision = record_payout(payment, done(transfer), LATER)

    assert transfer.kind is OperationKind.TRANSFER
    assert transfer.id == f"order:{payment.order_id}:transfer"
    assert transfer.amount_minor == 9_500
    entry = only_entry(decision)
    assert entry.entry_id == f"{transfer.id}:paid"
    assert moved(entry) == {SELLER_PAYABLE: -9_500, ledger.PAYOUTS: 9_500}


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


# --- the ledger -----------------------------------------------------------------------------------


def test_an_entry_whose_lines_do_not_sum_to_zero_is_refused():
    with pytest.raises(UnbalancedEntry, match="does not balance"):
        Entry(
            "e1", "ord_1", "EUR", NOW, "bad", (Line(ledger.ESCROW, 100), Line(ledger.REFUNDS, -99))
        )


def test_an_entry_helper_refuses_unbalanced_moves_too():
    with pytest.raises(UnbalancedEntry):
        ledger.entry("e1", "ord_1", "EUR", NOW, "bad", Line(ledger.ESCROW, 100))


def test_a_move_takes_the_amount_from_the_source_and_gives_it_to_the_destination():
    assert ledger.move(250, ledger.ESCROW, ledger.REFUNDS) == (
        Line(ledger.ESCROW, -250),
        Line(ledger.REFUNDS, 250),
    )


def test_an_entry_drops_lines_that_move_nothing():
    entry = ledger.entry(
        "e1",
        "ord_1",
        "EUR",
        NOW,
        "capture",
        *ledger.move(700, ledger.AUTHORIZATION_HOLD, ledger.ESCROW),
        *ledger.move(0, ledger.CREDIT_RESERVED, ledger.ESCROW),
    )

    assert entry is not None
    assert entry.lines == (Line(ledger.AUTHORIZATION_HOLD, -700), Line(ledger.ESCROW, 700))
    assert (entry.entry_id, entry.order_id, entry.currency, entry.at, entry.reason) == (
        "e1",
        "ord_1",
        "EUR",
        NOW,
        "capture",
    )


def test_an_entry_where_nothing_moves_is_not_written():
    assert ledger.entry("e1", "ord_1", "EUR", NOW, "nothing", *ledger.move(0, "a", "b")) is None
    assert ledger.entry("e1", "ord_1", "EUR", NOW, "nothing") is None


def test_balances_sum_each_account_and_leave_out_accounts_back_at_zero():
    lines = [
        *ledger.move(1_000, ledger.BUYER_CARD, ledger.AUTHORIZATION_HOLD),
        *ledger.move(1_000, ledger.AUTHORIZATION_HOLD, ledger.ESCROW),
        *ledger.move(300, ledger.ESCROW, ledger.REFUNDS),
    ]

    totals = ledger.balances(lines)

    assert totals == {ledger.BUYER_CARD: -1_000, ledger.ESCROW: 700, ledger.REFUNDS: 300}
    assert list(totals) == sorted(totals)


def test_the_balances_of_no_lines_are_empty():
    assert ledger.balances([]) == {}


# --- whole lives of a payment ---------------------------------------------------------------------


class Books:
    """One order's payment driven fact by fact, as the handlers and the worker would, keeping
    every ledger entry written along the way."""

    def __init__(self, total: int, credit_balance: int) -> None:
        self.payment = new_payment(total)
        self.credit_balance = credit_balance
        self.entries: list[Entry] = []
        self.refund_keys = 0

    def apply(self, decision: Decision) -> tuple[Operation, ...]:
        self.payment = decision.payment
        self.entries += decision.entries
        return decision.operations

    def write(self, entry: Entry | None) -> None:
        if entry is not None:
            self.entries.append(entry)

    @property
    def balances(self) -> dict[str, int]:
        return ledger.balances([line for entry in self.entries for line in entry.lines])

    # the facts

    def credit_given(self) -> None:
        if self.credit_balance:
            self.write(
                goodwill_credit(
                    self.payment, 0, 1_000_000, BUYER, eur(self.credit_balance), "sorry", "g", NOW
                )
            )

    def placed(self) -> None:
        (self.authorization,) = self.apply(place(self.payment, self.credit_balance, NOW))

    def authorized(self, outcome: CardOutcome = APPROVED) -> None:
        finished = done(self.authorization, outcome)
        self.apply(record_authorization(self.payment, finished, outcome, NOW, HOLD))

    def ended(self) -> None:
        for void in self.apply(end_before_capture(self.payment, self.authorization, NOW)):
            if void.kind is OperationKind.VOID:
                self.apply(record_void(self.payment, done(void), NOW))

    def shipped(self) -> None:
        (operation,) = self.apply(capture(self.payment, NOW))
        self.apply(record_capture(self.payment, done(operation), NOW, FEE_BPS))

    def completed(self) -> None:
        self.apply(release(self.payment, LATER, FEE_BPS))

    def paid_out(self) -> None:
        self.apply(record_payout(self.payment, done(payout(self.payment, LATER)), LATER))

    def refunded(self, amount: int | None) -> None:
        self.refund_keys += 1
        key = f"t{self.refund_keys}"
        (operation,) = self.apply(refund(self.payment, amount, "refund", key, LATER))
        self.apply(record_refund(self.payment, done(operation), LATER))


def placed_authorized_shipped(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.authorized()
    books.shipped()


def refunded_in_part_released_then_refunded_in_full(books: Books) -> None:
    placed_authorized_shipped(books)
    books.refunded(2_000)
    books.completed()
    books.refunded(None)


def released_and_paid_out(books: Books) -> None:
    placed_authorized_shipped(books)
    books.completed()
    books.paid_out()


def released_then_refunded_in_part(books: Books) -> None:
    placed_authorized_shipped(books)
    books.completed()
    books.refunded(3_000)


def declined(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.authorized(CardOutcome(False, reason="declined"))


def cancelled_after_authorization(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.authorized()
    books.ended()


def cancelled_before_authorization(books: Books) -> None:
    books.credit_given()
    books.placed()
    books.ended()


SCENARIOS = [
    # (facts, total, credit balance, final state, final balances)
    pytest.param(
        refunded_in_part_released_then_refunded_in_full,
        10_000,
        0,
        PaymentState.REFUNDED,
        {ledger.BUYER_CARD: -10_000, ledger.REFUNDS: 10_000},
        id="no credit: partial refund, release, refund of the rest",
    ),
    pytest.param(
        refunded_in_part_released_then_refunded_in_full,
        10_000,
        3_000,
        PaymentState.REFUNDED,
        {
            ledger.GOODWILL: -3_000,
            ledger.BUYER_CARD: -7_000,
            ledger.REFUNDS: 7_000,
            BUYER_CREDIT: 3_000,
        },
        id="part credit: partial refund, release, refund of the rest",
    ),
    pytest.param(
        refunded_in_part_released_then_refunded_in_full,
        10_000,
        15_000,
        PaymentState.REFUNDED,
        {ledger.GOODWILL: -15_000, BUYER_CREDIT: 15_000},
        id="all credit: partial refund, release, refund of the rest",
    ),
    pytest.param(
        released_and_paid_out,
        10_000,
        3_000,
        PaymentState.RELEASED,
        {
            ledger.GOODWILL: -3_000,
            ledger.BUYER_CARD: -7_000,
            ledger.PAYOUTS: 9_500,
            ledger.PLATFORM_FEES: 500,
        },
        id="part credit: released and paid out",
    ),
    pytest.param(
        released_then_refunded_in_part,
        10_000,
        3_000,
        PaymentState.PARTIALLY_REFUNDED,
        {
            ledger.GOODWILL: -3_000,
            ledger.BUYER_CARD: -7_000,
            ledger.REFUNDS: 3_000,
            SELLER_PAYABLE: 9_500 - 2_850,
            ledger.PLATFORM_FEES: 500 - 150,
        },
        id="part credit: released, then 30 % refunded out of the seller's share and the fee",
    ),
    pytest.param(
        declined,
        10_000,
        3_000,
        PaymentState.FAILED,
        {ledger.GOODWILL: -3_000, BUYER_CREDIT: 3_000},
        id="part credit: declined",
    ),
    pytest.param(
        cancelled_after_authorization,
        10_000,
        3_000,
        PaymentState.VOIDED,
        {ledger.GOODWILL: -3_000, BUYER_CREDIT: 3_000},
        id="part credit: cancelled after authorization",
    ),
    pytest.param(
        cancelled_before_authorization,
        10_000,
        3_000,
        PaymentState.VOIDED,
        {ledger.GOODWILL: -3_000, BUYER_CREDIT: 3_000},
        id="part credit: cancelled before authorization",
    ),
]


@pytest.mark.parametrize(("facts", "total", "credit_balance", "state", "expected"), SCENARIOS)
def test_every_life_of_a_payment_balances_and_ends_where_a_person_would_expect(
    facts, total, credit_balance, state, expected
):
    books = Books(total, credit_balance)

    facts(books)

    lines = [line for entry in books.entries for line in entry.lines]
    assert sum(line.amount_minor for line in lines) == 0
    assert all(sum(line.amount_minor for line in entry.lines) == 0 for entry in books.entries)
    assert all(entry.order_id == books.payment.order_id for entry in books.entries)
    ids = [entry.entry_id for entry in books.entries]
    assert len(ids) == len(set(ids)), "an entry id is its idempotency key: never reused"
    assert books.payment.state is state
    final = books.balances
    assert final == expected
    for settled in (
        ledger.ESCROW,
        ledger.AUTHORIZATION_HOLD,
        ledger.CREDIT_RESERVED,
        ledger.REFUNDS_PENDING,
    ):
        assert settled not in final
    buyer_paid = -final.get(ledger.BUYER_CARD, 0) + credit_balance
    landed = sum(
        final.get(account, 0)
        for account in (
            SELLER_PAYABLE,
            ledger.PAYOUTS,
            ledger.PLATFORM_FEES,
            ledger.REFUNDS,
            BUYER_CREDIT,
        )
    )
    assert landed == buyer_paid


@pytest.mark.parametrize("credit_balance", [0, 3_000, 10_000])
def test_after_release_escrow_is_empty_and_the_seller_and_the_platform_share_what_was_kept(
    credit_balance,
):
    books = Books(10_000, credit_balance)
    placed_authorized_shipped(books)
    assert books.balances[ledger.ESCROW] == 10_000
    books.refunded(1_000)
    assert books.balances[ledger.ESCROW] == 9_000

    books.completed()

    final = books.balances
    assert ledger.ESCROW not in final
    assert final[SELLER_PAYABLE] == 8_550
    assert final[ledger.PLATFORM_FEES] == 450
    assert final[SELLER_PAYABLE] + final[ledger.PLATFORM_FEES] == 10_000 - 1_000
    assert -final.get(ledger.BUYER_CARD, 0) == 10_000 - credit_balance
    assert sum(final.values()) == 0


def test_an_order_completed_before_its_capture_is_confirmed_ends_released_and_balanced():
    books = Books(10_000, 3_000)
    books.credit_given()
    books.placed()
    books.authorized()
    (operation,) = books.apply(capture(books.payment, NOW))
    books.completed()  # before Stripe confirms the capture
    assert books.payment.release_due

    books.apply(record_capture(books.payment, done(operation), LATER, FEE_BPS))

    assert books.payment.state is PaymentState.RELEASED
    assert books.balances == {
        ledger.GOODWILL: -3_000,
        ledger.BUYER_CARD: -7_000,
        SELLER_PAYABLE: 9_500,
        ledger.PLATFORM_FEES: 500,
    }
