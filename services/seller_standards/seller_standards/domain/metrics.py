"""A seller's metrics over the rolling window, from their orders' facts and reviews, and the
score they add up to. Carrier-caused delays never count against a seller: shipping is
measured at the handover (a tracking number by the ship-by date), not at delivery. Pure: the
same facts always give the same metrics, so a replay rebuilds the same standing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from seller_standards.domain.facts import OrderFacts, Review
from seller_standards.domain.policy import Direction, Exemption, Policy, Threshold


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None
    sample_size: int
    threshold: Threshold | None
    orders: tuple[str, ...] = ()  # the orders that drove it (late, defective, ...)
    # the orders in the window it is about, when more than those measured yet: on-time
    # shipping judges a seller with 10 accepted orders even if only 9 are due so far
    population: int | None = None

    @property
    def judged(self) -> bool:
        return (
            self.threshold is not None
            and self.value is not None
            and max(self.sample_size, self.population or 0) >= self.threshold.min_sample
        )


def _rate(hits: int, sample: int) -> float | None:
    return round(hits / sample, 4) if sample else None


def metrics(
    orders: list[OrderFacts],
    reviews: list[Review],
    exemptions: list[Exemption],
    now: datetime,
    policy: Policy,
) -> dict[str, Metric]:
    since = now - policy.window
    counted = [
        o
        for o in orders
        if since <= o.placed_at <= now and not any(e.covers(o.placed_at) for e in exemptions)
    ]
    t = policy.thresholds

    def metric(
        name: str, hits: list[OrderFacts], sample: list[OrderFacts], flagged: list[OrderFacts]
    ) -> Metric:
        return Metric(
            name,
            _rate(len(hits), len(sample)),
            len(sample),
            t.get(name),
            tuple(sorted(o.order_id for o in flagged)),
        )

    due = [
        o
        for o in counted
        if o.ship_by and not o.seller_cancelled and (o.shipped_at or o.ship_by < now)
    ]
    on_time = [o for o in due if o.shipped_at and o.ship_by and o.shipped_at <= o.ship_by]
    late = [o for o in due if o not in on_time]

    tracked = [
        o
        for o in counted
        if o.fulfilment == "seller_ships"
        and o.shipped_at
        and (o.carrier_seen or o.shipped_at + policy.tracking_grace <= now)
    ]
    valid = [o for o in tracked if o.has_tracking and o.carrier_seen]

    cancelled = [o for o in counted if o.seller_cancelled]
    defective = [o for o in counted if o.defects]

    asked = [
        o
        for o in counted
        if o.first_buyer_message_at
        and (o.seller_replied_at or o.first_buyer_message_at + policy.reply_within < now)
    ]
    answered = [
        o
        for o in asked
        if o.seller_replied_at
        and o.first_buyer_message_at
        and o.seller_replied_at - o.first_buyer_message_at <= policy.reply_within
    ]

    # Reviews count by when they were written; not those flagged as misuse, nor those of an
    # exempted order.
    exempted = {o.order_id for o in orders if any(e.covers(o.placed_at) for e in exemptions)}
    ratings = [
        r for r in reviews if since <= r.at <= now and not r.misuse and r.order_id not in exempted
    ]
    average = round(sum(r.rating for r in ratings) / len(ratings), 2) if ratings else None

    return {
        "on_time_shipping_rate": replace(
            metric("on_time_shipping_rate", on_time, due, late),
            population=len([o for o in counted if o.ship_by and not o.seller_cancelled]),
        ),
        "valid_tracking_rate": metric(
            "valid_tracking_rate", valid, tracked, [o for o in tracked if o not in valid]
        ),
        "seller_cancel_rate": metric("seller_cancel_rate", cancelled, counted, cancelled),
        "defect_rate": metric("defect_rate", defective, counted, defective),
        "response_within_24h_rate": metric(
            "response_within_24h_rate", answered, asked, [o for o in asked if o not in answered]
        ),
        "average_rating": Metric(
            "average_rating",
            average,
            len(ratings),
            t.get("average_rating"),
            tuple(sorted(r.order_id for r in ratings if r.rating <= 2)),
        ),
        "order_volume_surge": surge(orders, now, policy),
    }


def surge(orders: list[OrderFacts], now: datetime, policy: Policy) -> Metric:
    """Recent orders against the seller's own baseline. A surge is flagged (the seller may
    be overwhelmed), never held against them."""
    recent = [o for o in orders if now - policy.surge_recent < o.placed_at <= now]
    baseline_start = now - policy.surge_recent - policy.surge_baseline
    baseline = [o for o in orders if baseline_start < o.placed_at <= now - policy.surge_recent]
    weekly = len(baseline) * policy.surge_recent / policy.surge_baseline
    ratio = round(len(recent) / weekly, 2) if weekly else (float(len(recent)) if recent else 0.0)
    flagged = len(recent) >= policy.surge_min_orders and ratio >= policy.surge_factor
    return Metric(
        "order_volume_surge",
        ratio,
        len(recent),
        None,
        tuple(sorted(o.order_id for o in recent)) if flagged else (),
    )


def surging(metric: Metric, policy: Policy) -> bool:
    return (
        metric.sample_size >= policy.surge_min_orders and (metric.value or 0) >= policy.surge_factor
    )


def score(all_metrics: dict[str, Metric]) -> int:
    """0-100: how well the judged metrics meet their targets (100 with nothing to judge)."""
    healths = []
    for metric in all_metrics.values():
        if not metric.judged:
            continue
        threshold, value = metric.threshold, metric.value
        assert threshold is not None and value is not None
        span = abs(threshold.target - threshold.floor) or 1.0
        gap = (
            value - threshold.floor
            if threshold.direction is Direction.AT_LEAST
            else threshold.floor - value
        )
        healths.append(min(1.0, max(0.0, gap / span)))
    return round(100 * sum(healths) / len(healths)) if healths else 100
