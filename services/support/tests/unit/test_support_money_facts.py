"""What support learns of an order's money from orders' and payments' events (the order's
total, what payments holds, captured, refunded, charged back or released), what it will not
guess at before it has heard enough, and the amounts a resolution may carry at all. Pure: no
database."""

import pytest
from pydantic import ValidationError

from contracts.payments import (
    PaymentReleased,
)
from support.api.bodies import ResolutionRequest
from support.domain.errors import NotYetKnown

from support_money_test_helpers import (
    NOW,
    ORDER,
    PAID,
    authorized,
    captured,
    decide,
    dispute,
    eur,
    knowing,
    placed,
    refunded,
)

# --- what support learns ------------------------------------------------------------------


def test_the_facts_of_orders_and_payments_make_what_is_refundable():
    money = knowing(*PAID, refunded(2_000, 2_000), dispute(3_000))

    assert (money.total_minor, money.currency, money.captured_minor) == (12_500, "EUR", 12_500)
    assert money.refundable_minor == 12_500 - 2_000 - 3_000


def test_a_chargeback_won_gives_the_money_back_to_refund_and_a_lost_one_does_not():
    assert knowing(*PAID, dispute(3_000), dispute(3_000, "won")).refundable_minor == 12_500
    assert knowing(*PAID, dispute(3_000), dispute(3_000, "lost")).refundable_minor == 9_500


def test_the_hold_counts_the_credit_applied_to_the_order():
    assert knowing(placed(), authorized(10_000, credit_minor=2_500)).held_minor == 12_500


def test_a_refund_after_the_payout_is_still_possible_as_payments_claws_it_back():
    released = PaymentReleased(
        order_id=ORDER,
        seller_id="usr_seller",
        amount=eur(11_250),
        platform_fee=eur(1_250),
        released_at=NOW,
    )
    money = knowing(*PAID, released)

    assert money.released_minor == 12_500
    assert money.refundable_minor == 12_500


def test_payments_total_refunded_never_goes_back_when_its_events_cross():
    assert knowing(*PAID, refunded(500, 3_000), refunded(2_500, 2_500)).refunded_minor == 3_000


def test_a_payment_event_before_the_order_placed_is_kept_and_the_total_follows():
    money = knowing(captured(), authorized(), placed())

    assert (money.total_minor, money.captured_minor, money.currency) == (12_500, 12_500, "EUR")


# --- not yet known ------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["refund", "partial_refund", "credit"])
def test_an_order_support_has_not_heard_of_is_not_guessed_at(action):
    with pytest.raises(NotYetKnown) as refused:
        decide(None, action, eur(100))

    assert refused.value.status == 409
    assert "retry" in str(refused.value)


def test_a_refund_before_payments_reported_anything_waits_for_it():
    with pytest.raises(NotYetKnown):
        decide(knowing(placed()), "refund")


def test_payment_facts_without_the_order_total_are_not_enough_for_a_credit():
    with pytest.raises(NotYetKnown):
        decide(knowing(authorized(), captured()), "credit", eur(100))


@pytest.mark.parametrize("action", ["rebook", "reship", "return", "no_action"])
def test_actions_that_move_no_money_need_no_money_known(action):
    assert decide(None, action) is None
    money = knowing(*PAID)
    assert decide(money, action) == money


# --- amounts at the edge ------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount_minor", [9_223_372_036_854_775_807, 10**30, "12.5", 12.5, "abc", None]
)
def test_an_amount_that_is_not_a_sane_whole_number_is_invalid(amount_minor):
    with pytest.raises(ValidationError):
        ResolutionRequest.model_validate(
            {"action": "credit", "amount": {"amount_minor": amount_minor, "currency": "EUR"}}
        )


def test_the_resolve_note_is_plain_text():
    assert ResolutionRequest.model_validate({"action": "no_action", "note": "line\nline"})
    with pytest.raises(ValidationError):
        ResolutionRequest.model_validate({"action": "no_action", "note": "evil\u202etxt"})
