"""What an order's money allows a resolution to do, from what support learnt of it (the
order's total, what payments holds) and what it decided itself: refunds at most what can
still be refunded, before the capture only all of it (a void), credit at most the operators'
share of the total with every earlier credit counted, the order's currency only, and nothing
decided on an order whose money support has not heard of yet. Pure: no database."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from contracts import Money
from contracts.orders import OrderPlaced, OrderReturned, OrderShipped
from contracts.payments import (
    PaymentAuthorizationFailed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCaptureFailed,
    PaymentDisputeClosed,
    PaymentDisputeOpened,
    PaymentRefunded,
    PaymentReleased,
    PaymentVoided,
)
from support.api.bodies import ResolutionRequest
from support.domain.errors import NotYetKnown, ResolutionImpossible
from support.domain.order_money import (
    OrderMoney,
    credit_limit_minor,
    decide_money,
    money_seen,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ORDER = "ord_1"


def eur(amount_minor: int) -> Money:
    return Money(amount_minor=amount_minor, currency="EUR")


def placed(total_minor: int = 12_500) -> OrderPlaced:
    return OrderPlaced(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        quantity=1,
        unit_price=eur(total_minor),
        total=eur(total_minor),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
    )


def authorized(card_minor: int = 12_500, credit_minor: int = 0) -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=ORDER,
        payment_intent_id="pi_1",
        amount=eur(card_minor),
        authorized_at=NOW,
        expires_at=NOW + timedelta(days=7),
        credit_applied=eur(credit_minor) if credit_minor else None,
    )


def captured(amount_minor: int = 12_500) -> PaymentCaptured:
    return PaymentCaptured(
        order_id=ORDER, payment_intent_id="pi_1", amount=eur(amount_minor), captured_at=NOW
    )


def refunded(amount_minor: int, total_minor: int) -> PaymentRefunded:
    return PaymentRefunded(
        order_id=ORDER,
        amount=eur(amount_minor),
        total_refunded=eur(total_minor),
        full=False,
        reason="returned",
        refunded_at=NOW,
    )


def dispute(amount_minor: int, outcome: str | None = None):
    common = {
        "order_id": ORDER,
        "buyer_id": "usr_buyer",
        "seller_id": "usr_seller",
        "dispute_id": "dp_1",
        "amount": eur(amount_minor),
    }
    if outcome is None:
        return PaymentDisputeOpened(**common, reason="fraudulent", opened_at=NOW)
    return PaymentDisputeClosed(**common, outcome=outcome, closed_at=NOW)


def knowing(*events) -> OrderMoney:
    money = OrderMoney(ORDER)
    for event in events:
        money = money_seen(money, event)
    return money


PAID = (placed(), authorized(), captured())


def decide(money, action, amount=None, ratio=Decimal(1)):
    return decide_money(money, action=action, amount=amount, credit_ratio=ratio)


def refusal(money, action, amount=None, ratio=Decimal(1)) -> ResolutionImpossible:
    with pytest.raises(ResolutionImpossible) as refused:
        decide(money, action, amount, ratio)
    return refused.value


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


# --- refunds ------------------------------------------------------------------------------


def test_a_refund_of_everything_left_is_counted_as_decided():
    after = decide(knowing(*PAID, refunded(2_000, 2_000)), "refund")

    assert after.refundable_minor == 0
    assert after.refunds_decided_minor == 12_500


def test_a_refund_above_what_is_left_is_refused_with_what_is_refundable():
    money = knowing(*PAID, refunded(10_000, 10_000))

    refused = refusal(money, "refund", eur(5_000))

    assert refused.status == 409
    assert refused.extra["refundable"] == {"amount_minor": 2_500, "currency": "EUR"}
    assert "25.00 EUR" in str(refused)


def test_two_partial_refunds_decided_before_payments_reports_either_cannot_take_the_same_money():
    first = decide(knowing(*PAID), "partial_refund", eur(10_000))

    refused = refusal(first, "partial_refund", eur(5_000))

    assert refused.extra["refundable"]["amount_minor"] == 2_500
    assert decide(first, "partial_refund", eur(2_500)).refundable_minor == 0


def test_a_refund_decided_on_top_of_one_payments_made_counts_both():
    after = decide(knowing(*PAID, refunded(3_000, 3_000)), "partial_refund", eur(1_000))

    assert after.refundable_minor == 12_500 - 3_000 - 1_000
    assert knowing(*PAID, refunded(3_000, 3_000)).refundable_minor == 9_500


def test_a_fully_refunded_order_has_nothing_left_even_for_a_refund_without_an_amount():
    refused = refusal(knowing(*PAID, refunded(12_500, 12_500)), "refund")

    assert refused.extra["refundable"]["amount_minor"] == 0


def test_chargebacks_are_not_refundable_again():
    refused = refusal(knowing(*PAID, dispute(12_000)), "partial_refund", eur(1_000))

    assert refused.extra["refundable"]["amount_minor"] == 500


@pytest.mark.parametrize("amount_minor", [0, -500])
def test_a_partial_refund_must_be_positive(amount_minor):
    refused = refusal(knowing(*PAID), "partial_refund", eur(amount_minor))

    assert "positive" in str(refused)
    assert refused.extra["refundable"]["amount_minor"] == 12_500


@pytest.mark.parametrize("action", ["refund", "partial_refund", "credit"])
def test_the_amount_must_be_in_the_orders_currency(action):
    refused = refusal(knowing(*PAID), action, Money(amount_minor=500, currency="USD"))

    assert "EUR" in str(refused)


# --- before the capture -------------------------------------------------------------------


@pytest.mark.parametrize("amount", [None, eur(12_500)])
def test_a_refund_before_the_capture_returns_the_whole_hold_which_payments_voids(amount):
    after = decide(knowing(placed(), authorized()), "refund", amount)

    assert after.refundable_minor == 0


def test_after_a_void_is_decided_no_second_refund_and_the_capture_leaves_nothing():
    voiding = decide(knowing(placed(), authorized()), "refund")

    refusal(voiding, "refund")
    assert money_seen(voiding, captured()).refundable_minor == 0


@pytest.mark.parametrize(
    ("action", "amount"), [("partial_refund", eur(1_000)), ("refund", eur(1_000))]
)
def test_before_the_capture_part_of_the_hold_cannot_be_given_back(action, amount):
    refused = refusal(knowing(placed(), authorized()), action, amount)

    assert refused.extra == {
        "refundable": {"amount_minor": 12_500, "currency": "EUR"},
        "captured": False,
    }


@pytest.mark.parametrize(
    "ended",
    [
        PaymentVoided(order_id=ORDER, payment_intent_id="pi_1", amount=eur(12_500), voided_at=NOW),
        PaymentAuthorizationFailed(
            order_id=ORDER, amount=eur(12_500), reason="declined", failed_at=NOW
        ),
    ],
)
def test_an_order_whose_hold_was_released_or_never_made_has_nothing_to_refund(ended):
    refused = refusal(knowing(placed(), authorized(), ended), "refund")

    assert refused.extra["refundable"]["amount_minor"] == 0


# --- credit -------------------------------------------------------------------------------


def test_credit_up_to_the_orders_total_with_earlier_credits_counted():
    money = decide(knowing(*PAID), "credit", eur(10_000))

    assert money.credits_decided_minor == 10_000
    refused = refusal(money, "credit", eur(2_501))
    assert refused.extra["creditable"] == {"amount_minor": 2_500, "currency": "EUR"}
    assert decide(money, "credit", eur(2_500)).credits_decided_minor == 12_500


def test_credit_is_possible_before_the_payment_is_captured():
    assert decide(knowing(placed()), "credit", eur(500)).credits_decided_minor == 500


def test_the_operators_ratio_raises_or_lowers_the_credit_limit():
    assert decide(knowing(*PAID), "credit", eur(25_000), Decimal("2")).credits_decided_minor
    refused = refusal(knowing(*PAID), "credit", eur(1_251), Decimal("0.1"))
    assert refused.extra["creditable"]["amount_minor"] == 1_250


def test_the_credit_limit_rounds_down_to_a_whole_minor_unit():
    assert credit_limit_minor(999, Decimal("0.5")) == 499
    assert credit_limit_minor(12_500, Decimal("1")) == 12_500


@pytest.mark.parametrize("amount_minor", [0, -1])
def test_a_credit_must_be_positive(amount_minor):
    assert "positive" in str(refusal(knowing(*PAID), "credit", eur(amount_minor)))


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


def test_an_order_money_copy_is_unchanged_by_a_refusal():
    money = knowing(*PAID)
    before = replace(money)

    refusal(money, "refund", eur(20_000))

    assert money == before


def test_a_return_leaves_nothing_to_refund_before_payments_reports_its_refund():
    returned = OrderReturned(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        fulfilment="seller_ships",
        occurred_at=NOW,
        total=eur(12_500),
    )
    money = knowing(*PAID, refunded(2_000, 2_000), returned)

    assert money.refundable_minor == 0
    assert money_seen(money, refunded(10_500, 12_500)).refundable_minor == 0


def test_payments_own_credit_limit_for_the_order_is_never_exceeded():
    money = replace(knowing(*PAID), payments_credit_limit_minor=5_000)

    refused = refusal(money, "credit", eur(5_001), Decimal("2"))

    assert refused.extra["creditable"]["amount_minor"] == 5_000


def test_refunds_payments_decided_but_has_not_reported_count_from_its_refundable():
    capture = captured().model_copy(update={"refundable": eur(7_500)})

    money = knowing(placed(), authorized(), capture)

    assert money.refundable_minor == 7_500
    refused = refusal(money, "partial_refund", eur(8_000))
    assert refused.extra["refundable"]["amount_minor"] == 7_500


def test_payments_credit_limit_comes_with_the_authorization():
    limited = authorized().model_copy(update={"creditable": eur(6_000)})

    refused = refusal(knowing(placed(), limited, captured()), "credit", eur(6_001))

    assert refused.extra["creditable"]["amount_minor"] == 6_000


def shipped_fact():
    return OrderShipped(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        fulfilment="seller_ships",
        occurred_at=NOW,
        total=eur(12_500),
        carrier="DHL",
        tracking_number="TRK1",
    )


@pytest.mark.parametrize(("action", "amount"), [("refund", None), ("partial_refund", eur(100))])
def test_between_the_shipment_and_the_capture_a_refund_waits_for_the_capture(action, amount):
    with pytest.raises(NotYetKnown, match="captured"):
        decide(knowing(placed(), authorized(), shipped_fact()), action, amount)

    assert decide(knowing(*PAID, shipped_fact()), action, amount).refundable_minor < 12_500


def test_a_capture_that_failed_leaves_nothing_to_refund():
    failed = PaymentCaptureFailed(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        amount=eur(12_500),
        reason="lapsed",
        failed_at=NOW,
    )

    refused = refusal(knowing(placed(), authorized(), shipped_fact(), failed), "refund")

    assert refused.extra["refundable"]["amount_minor"] == 0
