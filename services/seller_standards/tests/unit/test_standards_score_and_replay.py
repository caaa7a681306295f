"""Seller standards' score, and that the same facts always give the same metrics and standing
(a replay rebuilds the same result). Without a database."""

from datetime import timedelta

import pytest

from seller_standards.domain.facts import OrderFacts, Review
from seller_standards.domain.metrics import Metric, metrics, score
from seller_standards.domain.policy import (
    DEFAULT_POLICY,
    Exemption,
)
from seller_standards.domain.standing import Change, SellerStanding

from standards_test_helpers import (
    GOOD,
    NOW,
    PLACED,
    POLICY,
    asked,
    late,
    measure,
    order,
    rate_metric,
    recent_orders,
    shipping,
    standing_after,
)

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
