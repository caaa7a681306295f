"""Fair standards (#19), decided by the domain (no database): a deadline the seller let pass
counts as their cancellation, a failed delivery is the seller's defect only when the event
says it is their fault, a review flagged as misuse and an exempted span do not count, and a
surge is told once a week."""

from datetime import timedelta

import pytest

from contracts.orders import OrderCancelled, OrderDeliveryFailed, OrderReturnedToSender
from seller_standards.domain.facts import Review, first_word, folded
from seller_standards.domain.policy import Exemption
from seller_standards.domain.standing import SellerStanding, surge_alert

from standards_test_helpers import (
    NOW,
    PLACED,
    POLICY,
    SELLER,
    baseline_orders,
    fact,
    measure,
    order,
    placed,
    recent_orders,
)


def facts_after(*events):
    facts = first_word(events[0], NOW)
    for event in events:
        facts = folded(facts, event)
    return facts


def cancelled(reason, by="system"):
    return OrderCancelled(
        order_id="ord_1",
        buyer_id="usr_buyer",
        seller_id=SELLER,
        reason=reason,
        cancelled_by=by,
        cancelled_at=NOW,
    )


def test_an_order_not_accepted_in_time_counts_as_the_sellers_cancellation():
    expired = facts_after(placed("ord_1"), cancelled("acceptance_window_missed"))
    buyer = facts_after(placed("ord_1"), cancelled("payment_not_completed"))
    assert expired.seller_cancelled and not buyer.seller_cancelled
    rate = measure([expired] + [order(i) for i in range(9)])["seller_cancel_rate"]
    assert rate.value == 0.1 and rate.orders == ("ord_1",)


@pytest.mark.parametrize("event_type", [OrderDeliveryFailed, OrderReturnedToSender])
def test_only_a_fault_the_event_puts_on_the_seller_is_their_defect(event_type):
    def after(fault):
        return facts_after(placed("ord_1"), event_type(**fact("ord_1"), attempts=1, fault=fault))

    assert after("carrier").defects == () and after("carrier").carrier_seen
    assert after("buyer").defects == ()
    assert after("seller").defects
    # An older event says nothing of the cause: it is not held against the seller.
    assert after(None).defects == () and after(None).carrier_seen
    defects = measure([after(None), after("carrier")] + [order(i) for i in range(8)])
    assert defects["defect_rate"].value == 0.0 and defects["defect_rate"].orders == ()


def test_a_review_flagged_as_misuse_does_not_count():
    orders = [order(i) for i in range(6)]
    at = PLACED + timedelta(days=1)
    reviews = [Review(f"rev_{i}", f"ord_{i}", 5, at) for i in range(5)]
    unfair = Review("rev_5", "ord_5", 1, at)
    assert measure(orders, [*reviews, unfair])["average_rating"].value == pytest.approx(4.33)
    flagged = Review("rev_5", "ord_5", 1, at, misuse=True)
    rating = measure(orders, [*reviews, flagged])["average_rating"]
    assert rating.value == 5.0 and rating.sample_size == 5


def test_an_exemption_takes_its_orders_and_their_reviews_out_of_every_metric():
    flood = [order(f"f{i}", PLACED, seller_cancelled=True) for i in range(5)]
    usual = [order(i, PLACED - timedelta(days=20)) for i in range(10)]
    review = Review("rev_f", "ord_f0", 1, PLACED + timedelta(days=1))
    span = Exemption(PLACED - timedelta(days=1), PLACED + timedelta(days=1), "Flood")
    without = measure([*flood, *usual], [review])
    assert without["seller_cancel_rate"].value == pytest.approx(0.3333)
    exempted = measure([*flood, *usual], [review], [span])
    assert exempted["seller_cancel_rate"].value == 0.0
    assert exempted["seller_cancel_rate"].sample_size == 10
    assert exempted["average_rating"].sample_size == 0


def test_a_surge_is_told_once_then_not_again_for_a_week():
    surge = measure(recent_orders(12) + baseline_orders(4))["order_volume_surge"]
    told, alert = surge_alert(SellerStanding(SELLER), surge, NOW, POLICY)
    assert alert is not None and alert.recent_orders == 12 and alert.recent_days == 7
    assert told.surge_alerted_at == NOW
    assert surge_alert(told, surge, NOW + timedelta(days=6), POLICY)[1] is None
    assert surge_alert(told, surge, NOW + timedelta(days=7), POLICY)[1] is not None
    usual = measure(recent_orders(4) + baseline_orders(16))["order_volume_surge"]
    assert surge_alert(SellerStanding(SELLER), usual, NOW, POLICY)[1] is None
