"""Seller standards' standing, without a database: the standing the metrics lead to (minimum
samples, hysteresis, the review period) and operators' decisions."""

from datetime import timedelta

import pytest

from seller_standards.domain.facts import Review
from seller_standards.domain.metrics import Metric
from seller_standards.domain.policy import (
    Direction,
    StandardsError,
    Threshold,
)
from seller_standards.domain.standing import Change, SellerStanding, decide, level

from standards_test_helpers import (
    AT_RISK,
    GOOD,
    NOW,
    POLICY,
    SELLER,
    UNDER_REVIEW,
    judged,
    late,
    measure,
    order,
    rate_metric,
    reviewed,
    shipping,
    standing_after,
)

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
