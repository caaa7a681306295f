"""Seller standards' pure rules, without a database: what each order does to a seller's
metrics over the rolling window, the standing those metrics lead to (minimum samples,
hysteresis, the review period), operators' decisions, the score, and that the same facts
always give the same result."""

from datetime import UTC, datetime, timedelta

import pytest

from seller_standards.domain.facts import OrderFacts, Review
from seller_standards.domain.metrics import Metric, metrics, score, surging
from seller_standards.domain.policy import (
    DEFAULT_POLICY,
    Direction,
    Exemption,
    Policy,
    StandardsError,
    Threshold,
)
from seller_standards.domain.standing import Change, SellerStanding, decide, evaluate, level

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PLACED = NOW - timedelta(days=10)
POLICY = Policy()
SELLER = "usr_seller"

GOOD = SellerStanding(SELLER)
AT_RISK = SellerStanding(SELLER, standing="at_risk", computed="at_risk")
UNDER_REVIEW = SellerStanding(
    SELLER, standing="under_review", computed="under_review", under_review_since=NOW
)


def order(n: int | str, placed: datetime = PLACED, **extra) -> OrderFacts:
    """An order shipped a day after it was placed (a day before its ship-by), with a tracking
    number the carrier has scanned, unless told otherwise."""
    values = {
        "fulfilment": "seller_ships",
        "ship_by": placed + timedelta(days=2),
        "shipped_at": placed + timedelta(days=1),
        "has_tracking": True,
        "carrier_seen": True,
    } | extra
    return OrderFacts(order_id=f"ord_{n}", seller_id=SELLER, placed_at=placed, **values)


def late(n: int | str, placed: datetime = PLACED, **extra) -> OrderFacts:
    """An order shipped a day after its ship-by."""
    return order(n, placed, shipped_at=placed + timedelta(days=3), **extra)


def measure(orders=(), reviews=(), exemptions=(), now: datetime = NOW) -> dict[str, Metric]:
    return metrics(list(orders), list(reviews), list(exemptions), now, POLICY)


def shipping(on_time: int, late_ones: int) -> dict[str, Metric]:
    """The metrics of a seller who shipped `on_time` orders in time and `late_ones` late."""
    return measure(
        [order(f"ok{i}") for i in range(on_time)] + [late(f"late{i}") for i in range(late_ones)]
    )


def reviewed(*ratings: int) -> tuple[list[OrderFacts], list[Review]]:
    """Orders each with one review of the given rating."""
    orders = [order(i) for i in range(len(ratings))]
    reviews = [
        Review(f"rev_{i}", f"ord_{i}", rating, PLACED + timedelta(days=5))
        for i, rating in enumerate(ratings)
    ]
    return orders, reviews


def judged(all_metrics: dict[str, Metric]) -> dict[str, Metric]:
    return {name: m for name, m in all_metrics.items() if m.judged}


def standing_after(
    current: SellerStanding, all_metrics: dict[str, Metric], now: datetime = NOW
) -> tuple[SellerStanding, Change | None]:
    return evaluate(current, all_metrics, now, POLICY)


def rate_metric(name: str, value: float, sample: int = 100) -> Metric:
    return Metric(name, value, sample, DEFAULT_POLICY[name])


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


def asked(n: int, asked_at: datetime, replied_after: timedelta | None) -> OrderFacts:
    replied = asked_at + replied_after if replied_after is not None else None
    return order(n, first_buyer_message_at=asked_at, seller_replied_at=replied)


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


def recent_orders(count: int) -> list[OrderFacts]:
    return [order(f"new{i}", NOW - timedelta(hours=12 * i + 1)) for i in range(count)]


def baseline_orders(count: int) -> list[OrderFacts]:
    """Orders spread over the four weeks before the recent week."""
    start = NOW - POLICY.surge_recent - timedelta(hours=1)
    step = (POLICY.surge_baseline - timedelta(hours=2)) / max(count, 1)
    return [order(f"base{i}", start - step * i) for i in range(count)]


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


# --- Minimum samples and levels -----------------------------------------------------------


def test_a_seller_with_two_late_orders_out_of_two_stays_good():
    all_metrics = shipping(0, 2)

    updated, change = standing_after(GOOD, all_metrics)

    assert all_metrics["on_time_shipping_rate"].value == 0.0
    assert not all_metrics["on_time_shipping_rate"].judged
    assert (updated.standing, change) == ("good", None)


def test_nine_late_orders_out_of_nine_are_still_too_few_to_judge():
    updated, change = standing_after(GOOD, shipping(0, 9))

    assert (updated.standing, change) == ("good", None)


def test_with_ten_orders_an_on_time_rate_under_the_target_puts_the_seller_at_risk():
    updated, change = standing_after(GOOD, shipping(9, 1))

    assert updated.standing == "at_risk"
    assert change == Change("at_risk", "good", "on time shipping rate 90% is below 95% (10 orders)")


def test_with_ten_orders_an_on_time_rate_under_the_floor_puts_the_seller_under_review():
    updated, change = standing_after(GOOD, shipping(5, 5))

    assert updated.standing == "under_review"
    assert updated.under_review_since == NOW
    assert change is not None
    assert change.previous == "good"
    assert "on time shipping rate 50% is below 80% (10 orders)" in change.reason


def test_a_rate_exactly_at_its_target_keeps_a_good_seller_good():
    updated, change = standing_after(GOOD, shipping(95, 5))

    assert (updated.standing, change) == ("good", None)


def test_level_explains_each_metric_out_of_line_in_words():
    orders = [late(i) for i in range(5)] + [order(i + 5) for i in range(5)]
    orders += [order(f"c{i}", shipped_at=None, seller_cancelled=True) for i in range(3)]
    reviewing = [
        Review(f"rev_{i}", f"ord_{i}", rating, NOW) for i, rating in enumerate([1, 2, 3, 3, 4, 2])
    ]

    called, reasons = level(judged(measure(orders, reviewing)))

    assert called == "under_review"
    assert reasons == [
        "on time shipping rate 50% is below 80% (10 orders)",
        "seller cancel rate 23.1% is above 10% (13 orders)",
        "average rating 2.50 is below 3.0 (6 reviews)",
    ]


def test_level_lists_metrics_below_the_floor_before_those_below_the_target():
    called, reasons = level(
        {
            "on_time_shipping_rate": rate_metric("on_time_shipping_rate", 0.9),
            "defect_rate": rate_metric("defect_rate", 0.06),
        }
    )

    assert called == "under_review"
    assert reasons == [
        "defect rate 6% is above 5% (100 orders)",
        "on time shipping rate 90% is below 95% (100 orders)",
    ]


def test_a_rate_under_the_target_but_over_the_floor_is_explained_against_the_target():
    lenient = Threshold(0.95, 0.40, Direction.AT_LEAST, 10)  # a policy where 50% is at risk
    half = Metric("on_time_shipping_rate", 0.5, 10, lenient)

    assert level({"on_time_shipping_rate": half}) == (
        "at_risk",
        ["on time shipping rate 50% is below 95% (10 orders)"],
    )


def test_a_rate_just_under_the_target_does_not_read_as_equal_to_it():
    _, reasons = level(judged(shipping(18, 1)))

    assert reasons
    assert "95% is below 95%" not in reasons[0]


def test_the_cancel_rate_target_reads_as_the_published_two_and_a_half_percent():
    orders = [order(i) for i in range(97)]
    orders += [order(f"c{i}", shipped_at=None, seller_cancelled=True) for i in range(3)]

    _, reasons = level(judged(measure(orders)))

    assert reasons == ["seller cancel rate 3% is above 2.5% (100 orders)"]


# --- Hysteresis --------------------------------------------------------------------------


def test_a_seller_at_risk_whose_rate_rises_to_exactly_the_target_stays_at_risk():
    updated, change = standing_after(AT_RISK, shipping(95, 5))

    assert (updated.standing, updated.computed, change) == ("at_risk", "at_risk", None)


@pytest.mark.parametrize("on_time", [97, 98, 100])
def test_a_seller_at_risk_whose_rate_clears_the_target_by_the_margin_is_good_again(on_time):
    updated, change = standing_after(AT_RISK, shipping(on_time, 100 - on_time))

    assert (updated.standing, updated.computed) == ("good", "good")
    assert change == Change("good", "at_risk", "Every metric meets its target again")


def test_a_seller_at_risk_whose_rating_rises_to_exactly_the_target_stays_at_risk():
    updated, change = standing_after(AT_RISK, measure(*reviewed(*[4] * 10)))

    assert (updated.standing, change) == ("at_risk", None)


def test_a_seller_at_risk_whose_rating_clears_the_target_by_a_tenth_of_a_star_is_good():
    updated, change = standing_after(AT_RISK, measure(*reviewed(*[4] * 9, 5)))  # 4.1

    assert updated.standing == "good"
    assert change is not None


def test_a_worse_rate_moves_a_good_seller_to_at_risk_immediately():
    updated, change = standing_after(GOOD, shipping(94, 6))

    assert updated.standing == "at_risk"
    assert change == Change(
        "at_risk", "good", "on time shipping rate 94% is below 95% (100 orders)"
    )


def test_a_worse_rate_moves_a_seller_at_risk_under_review_immediately():
    updated, change = standing_after(AT_RISK, shipping(79, 21))

    assert (updated.standing, updated.under_review_since) == ("under_review", NOW)
    assert change == Change(
        "under_review", "at_risk", "on time shipping rate 79% is below 80% (100 orders)"
    )


def test_a_seller_under_review_just_above_the_floor_stays_under_review():
    updated, change = standing_after(UNDER_REVIEW, shipping(81, 19))

    assert (updated.standing, updated.computed, change) == ("under_review", "under_review", None)
    assert updated.under_review_since == UNDER_REVIEW.under_review_since


def test_a_seller_under_review_clearly_above_the_floor_moves_up_to_at_risk_with_a_reason():
    updated, change = standing_after(UNDER_REVIEW, shipping(85, 15))

    assert (updated.standing, updated.under_review_since) == ("at_risk", None)
    assert change == Change(
        "at_risk", "under_review", "on time shipping rate 85% is below 95% (100 orders)"
    )


def test_a_seller_under_review_at_exactly_the_floor_plus_the_margin_moves_up_to_at_risk():
    updated, _ = standing_after(UNDER_REVIEW, shipping(82, 18))

    assert updated.standing == "at_risk"


def test_a_seller_under_review_recovering_to_the_target_moves_to_at_risk_with_a_reason():
    updated, change = standing_after(UNDER_REVIEW, shipping(95, 5))

    assert updated.standing == "at_risk"
    assert change is not None
    assert change.reason.strip()


# --- Review period -----------------------------------------------------------------------


def test_a_seller_under_review_for_the_whole_review_period_and_still_below_is_suspended():
    since = NOW - POLICY.review_period
    current = SellerStanding(SELLER, "under_review", "under_review", under_review_since=since)

    updated, change = standing_after(current, shipping(70, 30))

    assert updated.standing == "suspended"
    assert change is not None
    assert (change.standing, change.previous) == ("suspended", "under_review")
    assert change.reason == (
        "Still below standard after the review period: "
        "on time shipping rate 70% is below 80% (100 orders)"
    )


def test_a_seller_under_review_a_day_short_of_the_review_period_is_not_suspended_yet():
    since = NOW - POLICY.review_period + timedelta(days=1)
    current = SellerStanding(SELLER, "under_review", "under_review", under_review_since=since)

    updated, change = standing_after(current, shipping(70, 30))

    assert (updated.standing, updated.under_review_since, change) == ("under_review", since, None)


def test_the_review_period_runs_from_when_the_seller_fell_under_review():
    start = NOW - timedelta(days=30)
    all_metrics = shipping(70, 30)

    first, fell = standing_after(GOOD, all_metrics, start)
    middle, _ = standing_after(first, all_metrics, start + timedelta(days=7))
    last, suspended = standing_after(middle, all_metrics, start + POLICY.review_period)

    assert fell is not None and fell.standing == "under_review"
    assert (first.under_review_since, middle.under_review_since) == (start, start)
    assert middle.standing == "under_review"
    assert last.standing == "suspended"
    assert suspended is not None and suspended.previous == "under_review"


def test_recovering_before_the_review_period_ends_clears_the_review_and_a_relapse_starts_anew():
    since = NOW - timedelta(days=10)
    current = SellerStanding(SELLER, "under_review", "under_review", under_review_since=since)

    recovered, _ = standing_after(current, shipping(90, 10))
    relapse_at = NOW + timedelta(days=5)  # would be past the old review period
    relapsed, change = standing_after(recovered, shipping(70, 30), relapse_at)

    assert (recovered.standing, recovered.under_review_since) == ("at_risk", None)
    assert (relapsed.standing, relapsed.under_review_since) == ("under_review", relapse_at)
    assert change is not None and change.standing == "under_review"


def test_a_seller_back_above_the_floor_is_not_suspended_at_the_end_of_the_review_period():
    since = NOW - POLICY.review_period
    current = SellerStanding(SELLER, "under_review", "under_review", under_review_since=since)

    updated, change = standing_after(current, shipping(81, 19))

    assert updated.standing != "suspended", change


# --- Operators' decisions ----------------------------------------------------------------


def test_an_operators_decision_is_recorded_with_its_reason():
    updated, change = decide(UNDER_REVIEW, "good", "Carrier strike confirmed by the carrier")

    assert (updated.standing, updated.under_review_since) == ("good", None)
    assert updated.computed == "under_review"  # what the metrics call for is left as it was
    assert change == Change("good", "under_review", "Carrier strike confirmed by the carrier")


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_an_operators_decision_needs_a_reason(reason):
    with pytest.raises(StandardsError, match="needs a reason"):
        decide(GOOD, "suspended", reason)


def test_an_operator_keeping_a_seller_under_review_keeps_the_review_period_running():
    since = NOW - timedelta(days=3)
    current = SellerStanding(SELLER, "under_review", "under_review", under_review_since=since)

    updated, change = decide(current, "under_review", "Still looking into the complaints")

    assert updated.under_review_since == since
    assert (change.standing, change.previous) == ("under_review", "under_review")


def test_a_revoked_seller_stays_revoked():
    revoked, change = decide(AT_RISK, "revoked", "Counterfeit goods")

    assert change == Change("revoked", "at_risk", "Counterfeit goods")
    for to in ("good", "at_risk", "under_review", "suspended"):
        with pytest.raises(StandardsError, match="stays revoked"):
            decide(revoked, to, "Appeal accepted")  # type: ignore[arg-type]
    evaluated, automatic = standing_after(revoked, shipping(100, 0))
    assert (evaluated.standing, automatic) == ("revoked", None)


def test_metrics_that_still_call_for_review_do_not_undo_an_operators_good():
    cleared, _ = decide(UNDER_REVIEW, "good", "Late orders were the carrier's fault")

    again, change = standing_after(cleared, shipping(70, 30))
    later, later_change = standing_after(again, shipping(72, 28), NOW + POLICY.review_period)

    assert (again.standing, change) == ("good", None)
    assert (later.standing, later.under_review_since, later_change) == ("good", None, None)


def test_metrics_that_call_for_a_new_level_override_an_operators_earlier_decision():
    current = SellerStanding(SELLER, "at_risk", "at_risk")
    cleared, _ = decide(current, "good", "One-off late batch, explained")

    kept, kept_change = standing_after(cleared, shipping(90, 10))
    worse, worse_change = standing_after(kept, shipping(70, 30))

    assert (kept.standing, kept_change) == ("good", None)
    assert worse.standing == "under_review"
    assert worse_change is not None and worse_change.previous == "good"


def test_a_suspended_seller_is_not_reinstated_automatically_even_with_perfect_metrics():
    suspended = SellerStanding(SELLER, "suspended", "under_review")

    updated, change = standing_after(suspended, shipping(100, 0))

    assert (updated.standing, change) == ("suspended", None)
    assert (updated.computed, updated.score) == ("good", 100)  # shown to the operator
    reinstated, lifted = decide(updated, "good", "Metrics recovered; suspension lifted")
    assert reinstated.standing == "good"
    assert lifted == Change("good", "suspended", "Metrics recovered; suspension lifted")


def test_a_suspended_seller_with_bad_metrics_gets_no_further_automatic_change():
    suspended = SellerStanding(SELLER, "suspended", "good")

    updated, change = standing_after(suspended, shipping(50, 50), NOW + timedelta(days=60))

    assert (updated.standing, updated.computed, change) == ("suspended", "under_review", None)


# --- Score -------------------------------------------------------------------------------


def test_the_score_is_100_with_nothing_judged():
    assert score({}) == 100
    assert score(measure()) == 100
    assert score(shipping(0, 2)) == 100  # two late orders are too few to judge


def test_the_score_is_0_with_every_metric_at_or_below_its_floor():
    at_floor = {
        name: Metric(name, threshold.floor, 100, threshold)
        for name, threshold in DEFAULT_POLICY.items()
    }
    worse = {
        "on_time_shipping_rate": rate_metric("on_time_shipping_rate", 0.1),
        "defect_rate": rate_metric("defect_rate", 0.5),
    }

    assert score(at_floor) == 0
    assert score(worse) == 0


def test_the_score_is_100_with_every_metric_at_or_beyond_its_target():
    at_target = {
        name: Metric(name, threshold.target, 100, threshold)
        for name, threshold in DEFAULT_POLICY.items()
    }

    assert score(at_target) == 100
    assert score(shipping(100, 0)) == 100


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("on_time_shipping_rate", 0.875),
        ("seller_cancel_rate", 0.0625),
        ("defect_rate", 0.035),
        ("average_rating", 3.5),
    ],
)
def test_the_score_is_proportional_between_floor_and_target(name, value):
    assert score({name: rate_metric(name, value)}) == 50


def test_the_score_averages_the_judged_metrics_and_ignores_the_others():
    all_metrics = {
        "on_time_shipping_rate": rate_metric("on_time_shipping_rate", 0.95),  # 100
        "defect_rate": rate_metric("defect_rate", 0.05),  # 0
        "valid_tracking_rate": rate_metric("valid_tracking_rate", 0.0, sample=9),  # too few
        "order_volume_surge": Metric("order_volume_surge", 30.0, 30, None, ("ord_1",)),
    }

    assert score(all_metrics) == 50


def test_evaluate_keeps_the_score_with_the_standing():
    all_metrics = shipping(175, 25)  # 87.5% on time: half-way between floor and target

    updated, _ = standing_after(GOOD, all_metrics)

    # on time 50, valid tracking, cancellations and defects 100 each
    assert updated.score == score(all_metrics) == 88


# --- Determinism and replay --------------------------------------------------------------


def mixed_facts() -> tuple[list[OrderFacts], list[Review], list[Exemption]]:
    orders = [order(i, PLACED - timedelta(days=i)) for i in range(20)]
    orders += [late(f"late{i}", PLACED - timedelta(days=i, hours=3)) for i in range(4)]
    orders += [order(f"def{i}", PLACED, defects=("damaged",)) for i in range(2)]
    orders += [order("cancel", PLACED, shipped_at=None, seller_cancelled=True)]
    orders += [asked(f"msg{i}", NOW - timedelta(days=3), timedelta(hours=30)) for i in range(5)]
    orders += [
        order("lost", shipped_at=NOW - timedelta(days=8), carrier_seen=False),
        order("exempt", NOW - timedelta(days=40), shipped_at=None),
        *recent_orders(12),
    ]
    reviews = [
        Review(f"rev_{i}", f"ord_{i}", rating, NOW - timedelta(days=1))
        for i, rating in enumerate([5, 1, 4, 2, 5, 1, 3])
    ]
    exemptions = [Exemption(NOW - timedelta(days=41), NOW - timedelta(days=39), "Wildfire")]
    return orders, reviews, exemptions


def summary(all_metrics: dict[str, Metric]) -> dict[str, tuple]:
    return {
        name: (m.value, m.sample_size, m.judged, frozenset(m.orders))
        for name, m in all_metrics.items()
    }


def test_the_same_facts_give_the_same_metrics_and_standing_twice():
    orders, reviews, exemptions = mixed_facts()

    first = metrics(orders, reviews, exemptions, NOW, POLICY)
    second = metrics(orders, reviews, exemptions, NOW, POLICY)

    assert first == second
    assert standing_after(GOOD, first) == standing_after(GOOD, second)
    assert standing_after(GOOD, first)[0].standing == "under_review"


def test_the_order_of_the_facts_does_not_change_the_metrics_or_the_standing():
    orders, reviews, exemptions = mixed_facts()

    forward = metrics(orders, reviews, exemptions, NOW, POLICY)
    backward = metrics(orders[::-1], reviews[::-1], exemptions[::-1], NOW, POLICY)

    assert summary(forward) == summary(backward)
    assert standing_after(GOOD, forward) == standing_after(GOOD, backward)
    assert score(forward) == score(backward)


def test_the_order_of_the_facts_does_not_change_which_orders_are_listed_first():
    orders, reviews, exemptions = mixed_facts()

    forward = metrics(orders, reviews, exemptions, NOW, POLICY)
    backward = metrics(orders[::-1], reviews[::-1], exemptions[::-1], NOW, POLICY)

    assert forward == backward


def test_replaying_a_sellers_history_gives_the_same_standings_and_changes():
    start = NOW - timedelta(days=30)
    checkpoints = [
        (start, shipping(100, 0)),
        (start + timedelta(days=1), shipping(90, 10)),
        (start + timedelta(days=2), shipping(70, 30)),
        (start + timedelta(days=10), shipping(85, 15)),
        (start + timedelta(days=11), shipping(60, 40)),
        (start + timedelta(days=26), shipping(60, 40)),
    ]

    def replay() -> list[tuple[SellerStanding, Change | None]]:
        current, steps = GOOD, []
        for at, all_metrics in checkpoints:
            current, change = standing_after(current, all_metrics, at)
            steps.append((current, change))
        return steps

    first, second = replay(), replay()

    assert first == second
    assert [s.standing for s, _ in first] == [
        "good",
        "at_risk",
        "under_review",
        "at_risk",
        "under_review",
        "suspended",
    ]
