"""Seller standards' metrics, without a database: what each order does to a seller's metrics
over the rolling window (on-time shipping, valid tracking, cancellations, defects, responses,
ratings, surges), and the exemptions that take orders out of every metric."""

from datetime import timedelta

import pytest

from seller_standards.domain.facts import Review
from seller_standards.domain.metrics import surging
from seller_standards.domain.policy import (
    Exemption,
)

from standards_test_helpers import (
    GOOD,
    NOW,
    PLACED,
    POLICY,
    asked,
    baseline_orders,
    late,
    measure,
    order,
    recent_orders,
    reviewed,
    standing_after,
)

# --- On-time shipping ---------------------------------------------------------------------


def test_an_unshipped_order_counts_late_the_moment_its_ship_by_passes():
    waiting = order(1, ship_by=NOW - timedelta(seconds=1), shipped_at=None)

    on_time = measure([waiting])["on_time_shipping_rate"]

    assert (on_time.value, on_time.sample_size, on_time.orders) == (0.0, 1, ("ord_1",))


def test_an_unshipped_order_is_not_late_yet_at_its_ship_by_instant():
    waiting = order(1, ship_by=NOW, shipped_at=None)

    on_time = measure([waiting])["on_time_shipping_rate"]

    assert (on_time.value, on_time.sample_size, on_time.orders) == (None, 0, ())


def test_an_order_shipped_exactly_at_its_ship_by_is_on_time():
    ship_by = PLACED + timedelta(days=2)

    on_time = measure([order(1, ship_by=ship_by, shipped_at=ship_by)])["on_time_shipping_rate"]

    assert (on_time.value, on_time.sample_size, on_time.orders) == (1.0, 1, ())


def test_an_order_shipped_a_minute_after_its_ship_by_is_late_and_listed():
    ship_by = PLACED + timedelta(days=2)
    orders = [order(1), order(2, ship_by=ship_by, shipped_at=ship_by + timedelta(minutes=1))]

    on_time = measure(orders)["on_time_shipping_rate"]

    assert (on_time.value, on_time.sample_size, on_time.orders) == (0.5, 2, ("ord_2",))


def test_seller_cancelled_orders_do_not_count_for_on_time_shipping():
    cancelled = order(2, shipped_at=None, seller_cancelled=True)  # ship-by long past

    on_time = measure([order(1), cancelled])["on_time_shipping_rate"]

    assert (on_time.value, on_time.sample_size, on_time.orders) == (1.0, 1, ())


def test_orders_not_yet_due_count_for_on_time_shipping_only_once_shipped():
    placed = NOW - timedelta(hours=2)
    waiting = order(1, placed, shipped_at=None)
    shipped_early = order(2, placed, shipped_at=NOW - timedelta(hours=1))

    on_time = measure([waiting, shipped_early])["on_time_shipping_rate"]

    assert (on_time.value, on_time.sample_size, on_time.orders) == (1.0, 1, ())


def test_orders_without_a_ship_by_do_not_count_for_on_time_shipping():
    on_time = measure([order(1, ship_by=None, shipped_at=None)])["on_time_shipping_rate"]

    assert on_time.sample_size == 0


# --- Valid tracking -----------------------------------------------------------------------


def test_tracking_counts_as_valid_once_the_carrier_has_scanned_it():
    tracking = measure([order(1)])["valid_tracking_rate"]

    assert (tracking.value, tracking.sample_size, tracking.orders) == (1.0, 1, ())


def test_a_tracking_number_the_carrier_never_scanned_is_not_valid_after_the_grace_period():
    shipped = NOW - POLICY.tracking_grace - timedelta(hours=1)
    orders = [order(1), order(2, shipped_at=shipped, carrier_seen=False)]

    tracking = measure(orders)["valid_tracking_rate"]

    assert (tracking.value, tracking.sample_size, tracking.orders) == (0.5, 2, ("ord_2",))


def test_a_tracking_number_not_scanned_yet_is_pending_during_the_grace_period():
    shipped = NOW - POLICY.tracking_grace + timedelta(hours=1)
    orders = [order(1), order(2, shipped_at=shipped, carrier_seen=False)]

    tracking = measure(orders)["valid_tracking_rate"]

    assert (tracking.value, tracking.sample_size, tracking.orders) == (1.0, 1, ())


def test_an_order_shipped_without_a_tracking_number_is_not_valid_tracking():
    shipped = NOW - timedelta(days=6)
    untracked = order(1, shipped_at=shipped, has_tracking=False, carrier_seen=False)

    tracking = measure([untracked])["valid_tracking_rate"]

    assert (tracking.value, tracking.sample_size, tracking.orders) == (0.0, 1, ("ord_1",))


@pytest.mark.parametrize("fulfilment", ["warehouse", "transfer"])
def test_orders_the_seller_does_not_ship_do_not_count_for_tracking(fulfilment):
    not_theirs = order(1, fulfilment=fulfilment, has_tracking=False, carrier_seen=False)

    tracking = measure([not_theirs])["valid_tracking_rate"]

    assert (tracking.value, tracking.sample_size) == (None, 0)


def test_unshipped_orders_do_not_count_for_tracking():
    tracking = measure([order(1, shipped_at=None, carrier_seen=False)])["valid_tracking_rate"]

    assert tracking.sample_size == 0


# --- Seller cancellations and defects -----------------------------------------------------


def test_the_cancel_rate_is_the_share_of_every_order_in_the_window_the_seller_cancelled():
    orders = [
        order(1),
        order(2, shipped_at=None, ship_by=NOW + timedelta(days=1)),  # not due yet: still counts
        order(3, shipped_at=None, seller_cancelled=True),
        order(4),
    ]

    cancels = measure(orders)["seller_cancel_rate"]

    assert (cancels.value, cancels.sample_size, cancels.orders) == (0.25, 4, ("ord_3",))


def test_an_order_with_several_defects_counts_once_in_the_defect_rate():
    orders = [order(1, defects=("not_as_described", "damaged", "late_delivery")), order(2)]

    defects = measure(orders)["defect_rate"]

    assert (defects.value, defects.sample_size, defects.orders) == (0.5, 2, ("ord_1",))


# --- Responses to buyers ------------------------------------------------------------------


def test_a_reply_exactly_24_hours_after_the_buyer_wrote_is_on_time():
    response = measure([asked(1, NOW - timedelta(days=2), timedelta(hours=24))])[
        "response_within_24h_rate"
    ]

    assert (response.value, response.sample_size, response.orders) == (1.0, 1, ())


def test_a_reply_a_minute_over_24_hours_is_late_and_listed():
    orders = [
        asked(1, NOW - timedelta(days=2), timedelta(hours=1)),
        asked(2, NOW - timedelta(days=2), timedelta(hours=24, minutes=1)),
    ]

    response = measure(orders)["response_within_24h_rate"]

    assert (response.value, response.sample_size, response.orders) == (0.5, 2, ("ord_2",))


def test_an_unanswered_message_does_not_count_before_24_hours():
    response = measure([asked(1, NOW - timedelta(hours=23), None)])["response_within_24h_rate"]

    assert (response.value, response.sample_size) == (None, 0)


def test_an_unanswered_message_counts_as_missed_after_24_hours():
    response = measure([asked(1, NOW - timedelta(hours=24, minutes=1), None)])[
        "response_within_24h_rate"
    ]

    assert (response.value, response.sample_size, response.orders) == (0.0, 1, ("ord_1",))


def test_an_unanswered_message_is_not_yet_missed_at_exactly_24_hours():
    response = measure([asked(1, NOW - timedelta(hours=24), None)])["response_within_24h_rate"]

    assert response.sample_size == 0


def test_orders_without_a_buyer_message_do_not_count_for_responses():
    assert measure([order(1)])["response_within_24h_rate"].sample_size == 0


# --- Ratings -----------------------------------------------------------------------------


def test_the_average_rating_lists_the_orders_with_one_or_two_stars():
    orders, reviews = reviewed(5, 5, 2)

    rating = measure(orders, reviews)["average_rating"]

    assert (rating.value, rating.sample_size, rating.orders) == (4.0, 3, ("ord_2",))


def test_reviews_flagged_as_misuse_do_not_count_in_the_average_rating():
    orders, reviews = reviewed(5, 5, 2)
    orders.append(order("abuse"))
    reviews.append(Review("rev_abuse", "ord_abuse", 1, PLACED, misuse=True))

    rating = measure(orders, reviews)["average_rating"]

    assert (rating.value, rating.sample_size, rating.orders) == (4.0, 3, ("ord_2",))


def test_reviews_written_before_the_window_do_not_count():
    orders, reviews = reviewed(5, 4)
    reviews.append(Review("rev_old", "ord_0", 1, NOW - POLICY.window - timedelta(minutes=1)))

    rating = measure(orders, reviews)["average_rating"]

    assert (rating.value, rating.sample_size, rating.orders) == (4.5, 2, ())


def test_reviews_count_by_when_they_were_written_not_when_the_order_was_placed():
    old = order("old", NOW - POLICY.window - timedelta(days=10))
    recent = Review("rev_old", "ord_old", 1, NOW - timedelta(days=1))

    rating = measure([old], [recent])["average_rating"]

    assert measure([old])["on_time_shipping_rate"].sample_size == 0  # the order itself is out
    assert (rating.value, rating.sample_size, rating.orders) == (1.0, 1, ("ord_old",))


# --- Order volume surge -------------------------------------------------------------------


def test_ten_times_the_sellers_usual_weekly_orders_is_flagged_as_a_surge():
    recent = recent_orders(10)

    surge = measure(baseline_orders(4) + recent)["order_volume_surge"]  # usually 1 a week

    assert surge.value == 10.0
    assert surge.sample_size == 10
    assert surge.orders == tuple(o.order_id for o in recent)
    assert surging(surge, POLICY)


def test_a_busy_seller_at_their_usual_pace_is_not_surging():
    surge = measure(baseline_orders(40) + recent_orders(12))["order_volume_surge"]

    assert surge.value == 1.2
    assert surge.orders == ()
    assert not surging(surge, POLICY)


def test_a_surge_needs_a_minimum_of_recent_orders():
    surge = measure(recent_orders(POLICY.surge_min_orders - 1))["order_volume_surge"]

    assert surge.value == 9.0  # nine times nothing would be a lot, but nine orders are few
    assert surge.orders == ()
    assert not surging(surge, POLICY)


def test_a_surge_never_changes_a_sellers_standing():
    all_metrics = measure(recent_orders(30))
    assert surging(all_metrics["order_volume_surge"], POLICY)

    updated, change = standing_after(GOOD, all_metrics)

    assert not all_metrics["order_volume_surge"].judged
    assert (updated.standing, updated.computed, updated.score, change) == (
        "good",
        "good",
        100,
        None,
    )


# --- Window and exemptions ----------------------------------------------------------------


def test_orders_older_than_the_window_do_not_count():
    just_inside = late("inside", NOW - POLICY.window + timedelta(minutes=1))
    just_outside = late("outside", NOW - POLICY.window - timedelta(minutes=1))

    on_time = measure([order(1), just_inside, just_outside])["on_time_shipping_rate"]

    assert (on_time.value, on_time.sample_size, on_time.orders) == (0.5, 2, ("ord_inside",))


def test_orders_placed_during_an_exemption_do_not_count_for_any_metric():
    flood = Exemption(NOW - timedelta(days=20), NOW - timedelta(days=15), "Flooding in the region")
    during = [
        late("flood1", flood.starts, defects=("damaged",)),
        late("flood2", flood.ends, seller_cancelled=True),
        late("flood3", flood.starts + timedelta(days=2)),
    ]
    after = late("after", flood.ends + timedelta(minutes=1))
    orders = [order(1), *during, after]
    reviews = [Review("rev_flood", "ord_flood1", 1, NOW - timedelta(days=1))]

    all_metrics = measure(orders, reviews, [flood])

    on_time = all_metrics["on_time_shipping_rate"]
    assert (on_time.value, on_time.sample_size, on_time.orders) == (0.5, 2, ("ord_after",))
    assert all_metrics["defect_rate"].value == 0.0
    assert all_metrics["seller_cancel_rate"].value == 0.0
    assert all_metrics["average_rating"].sample_size == 0


def test_without_the_exemption_the_same_orders_would_count():
    during = [late(f"flood{i}", NOW - timedelta(days=18)) for i in range(3)]

    on_time = measure([order(1), *during])["on_time_shipping_rate"]

    assert on_time.sample_size == 4
    assert set(on_time.orders) == {"ord_flood0", "ord_flood1", "ord_flood2"}
