"""What a refund may take: at most what can still be refunded, every refund decided or
reported counted, in the order's currency; before the capture only all of it (a void), and
between the shipment and the capture nothing until the capture is known. Pure: no
database."""

from dataclasses import replace

import pytest

from contracts import Money
from contracts.orders import OrderReturned
from contracts.payments import (
    PaymentAuthorizationFailed,
    PaymentCaptureFailed,
    PaymentVoided,
)
from support.domain.errors import NotYetKnown
from support.domain.order_money import (
    money_seen,
)

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
    refusal,
    shipped_fact,
)

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


def test_refunds_payments_decided_but_has_not_reported_count_from_its_refundable():
    capture = captured().model_copy(update={"refundable": eur(7_500)})

    money = knowing(placed(), authorized(), capture)

    assert money.refundable_minor == 7_500
    refused = refusal(money, "partial_refund", eur(8_000))
    assert refused.extra["refundable"]["amount_minor"] == 7_500


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
