"""Seller standards' rules: each seller's metrics over a rolling window, the standing they
lead to (with minimum samples and hysteresis), and the score. Pure: facts and time come in as
arguments; the same facts always give the same result, so a replay rebuilds the same standing.

Carrier-caused delays never count against a seller: shipping is measured at the handover (a
tracking number by the ship-by date), not at delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

Standing = Literal["good", "at_risk", "under_review", "suspended", "revoked"]
LEVELS: tuple[Standing, ...] = ("good", "at_risk", "under_review")


class StandardsError(Exception):
    status = 400
    slug = "bad-request"


class Direction(StrEnum):
    AT_LEAST = "at_least"  # higher is better: rates met, ratings
    AT_MOST = "at_most"  # lower is better: cancellations, defects


@dataclass(frozen=True)
class Threshold:
    """`target` keeps a seller `good`; past `floor` the seller is `under_review`. Metrics
    with fewer than `min_sample` cases are shown but not judged."""

    target: float
    floor: float
    direction: Direction
    min_sample: int

    def meets(self, value: float, limit: float, margin: float = 0.0) -> bool:
        # rounded: 0.80 + 0.02 must be 0.82, not 0.8200000000000001
        if self.direction is Direction.AT_LEAST:
            return round(value - (limit + margin), 9) >= 0
        return round((limit - margin) - value, 9) >= 0


# Starting from the published marketplace standards: Etsy's Star Seller (95% on time with
# tracking, 95% of messages answered within 24 h, a floor of 80%), eBay (defects above 2% are
# below standard), Amazon (cancel rate under 2.5%, valid tracking at least 95%).
DEFAULT_POLICY: dict[str, Threshold] = {
    "on_time_shipping_rate": Threshold(0.95, 0.80, Direction.AT_LEAST, 10),
    "valid_tracking_rate": Threshold(0.95, 0.80, Direction.AT_LEAST, 10),
    "seller_cancel_rate": Threshold(0.025, 0.10, Direction.AT_MOST, 10),
    "defect_rate": Threshold(0.02, 0.05, Direction.AT_MOST, 10),
    "response_within_24h_rate": Threshold(0.95, 0.80, Direction.AT_LEAST, 5),
    "average_rating": Threshold(4.0, 3.0, Direction.AT_LEAST, 5),
}


@dataclass(frozen=True)
class Policy:
    thresholds: dict[str, Threshold] = field(default_factory=lambda: dict(DEFAULT_POLICY))
    window: timedelta = timedelta(days=90)
    # To move to a better standing a metric must beat its limit by this much (rates; a tenth
    # of it for ratings), so a seller on the edge does not flap between standings.
    hysteresis: float = 0.02
    review_period: timedelta = timedelta(days=14)  # under review this long, still below: suspended
    reply_within: timedelta = timedelta(hours=24)
    tracking_grace: timedelta = timedelta(days=5)  # a carrier scan is expected by then
    surge_recent: timedelta = timedelta(days=7)
    surge_baseline: timedelta = timedelta(days=28)
    surge_factor: float = 3.0
    surge_min_orders: int = 10
    reevaluate_every: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class OrderFacts:
    """What the events said about one order, as far as the seller's service goes."""

    order_id: str
    seller_id: str
    fulfilment: str
    placed_at: datetime
    ship_by: datetime | None = None
    shipped_at: datetime | None = None
    has_tracking: bool = False
    carrier_seen: bool = False
    seller_cancelled: bool = False
    defects: tuple[str, ...] = ()
    first_buyer_message_at: datetime | None = None
    seller_replied_at: datetime | None = None


@dataclass(frozen=True)
class Review:
    review_id: str
    order_id: str
    rating: int
    at: datetime
    misuse: bool = False


@dataclass(frozen=True)
class Exemption:
    starts: datetime
    ends: datetime
    reason: str

    def covers(self, moment: datetime) -> bool:
        return self.starts <= moment <= self.ends


# How far from today an exemption may reach: older spans are long out of every window, and
# a span years ahead (or in year 9999) is a typo, not a disaster anyone can foresee.
EXEMPTION_PAST = timedelta(days=5 * 365)
EXEMPTION_FUTURE = timedelta(days=366)


def check_exemption(exemption: Exemption, now: datetime) -> None:
    """An exemption an operator may record: a span that ends after it starts, within
    reach of today, with a reason."""
    if exemption.ends < exemption.starts:
        raise StandardsError("An exemption must end after it starts")
    if exemption.starts < now - EXEMPTION_PAST or exemption.ends > now + EXEMPTION_FUTURE:
        raise StandardsError("An exemption must lie between five years ago and a year from now")
    if not exemption.reason.strip():
        raise StandardsError("An exemption needs a reason")


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


def level(judged: dict[str, Metric], *, margin: float = 0.0) -> tuple[Standing, list[str]]:
    """The standing the metrics call for, and why (one line per metric out of line)."""
    below_floor, below_target = [], []
    for metric in judged.values():
        assert metric.threshold is not None and metric.value is not None
        # a margin of two points on a rate is a tenth of a star on a five-star rating
        extra = margin * 5 if metric.name == "average_rating" else margin
        if not metric.threshold.meets(metric.value, metric.threshold.floor, extra):
            below_floor.append(_explain(metric, metric.threshold.floor))
        elif not metric.threshold.meets(metric.value, metric.threshold.target, extra):
            below_target.append(_explain(metric, metric.threshold.target))
    if below_floor:
        return "under_review", below_floor + below_target
    if below_target:
        return "at_risk", below_target
    return "good", []


def _explain(metric: Metric, limit: float) -> str:
    assert metric.threshold is not None and metric.value is not None
    word = "below" if metric.threshold.direction is Direction.AT_LEAST else "above"
    name = metric.name.replace("_", " ")
    if metric.name == "average_rating":
        return f"{name} {metric.value:.2f} is {word} {limit:.1f} ({metric.sample_size} reviews)"
    value, limit_text = _percent(metric.value), _percent(limit)
    return f"{name} {value} is {word} {limit_text} ({metric.sample_size} orders)"


def _percent(rate: float) -> str:
    """94.74% as "94.7%", 95% as "95%": never rounded onto the limit it is compared with."""
    return f"{rate * 100:.1f}".removesuffix(".0") + "%"


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


@dataclass(frozen=True)
class SellerStanding:
    seller_id: str
    standing: Standing = "good"
    computed: Standing = "good"  # what the metrics last called for (operators may differ)
    under_review_since: datetime | None = None
    score: int = 100
    version: int = 0


@dataclass(frozen=True)
class Change:
    standing: Standing
    previous: Standing
    reason: str


def evaluate(
    current: SellerStanding,
    all_metrics: dict[str, Metric],
    now: datetime,
    policy: Policy,
) -> tuple[SellerStanding, Change | None]:
    """The standing after looking at the metrics again.

    Worse is immediate; better needs the metrics to clear their limits by the hysteresis
    margin. Operators' decisions stand until the metrics call for something new (the
    computed level changes). `revoked` is permanent; `suspended` is lifted by an operator.
    A seller `under_review` for the whole review period whose metrics still call for it is
    suspended.
    """
    judged = {name: m for name, m in all_metrics.items() if m.judged}
    raw, reasons = level(judged)
    called = raw
    rank = LEVELS.index
    if rank(raw) < rank(current.computed):
        # improving: only as far as the metrics clear the bar with the margin
        with_margin, margin_reasons = level(judged, margin=policy.hysteresis)
        called = with_margin if rank(with_margin) < rank(current.computed) else current.computed
        reasons = margin_reasons
    updated = replace(current, computed=called, score=score(all_metrics))
    if current.standing in ("revoked", "suspended"):
        return updated, None
    change = None
    if called != current.computed:
        why = "Every metric meets its target again" if called == "good" else "; ".join(reasons)
        updated, change = _moved(updated, called, why)
    if updated.standing != "under_review":
        return replace(updated, under_review_since=None), change
    since = updated.under_review_since or now
    updated = replace(updated, under_review_since=since)
    # Suspension needs the metrics themselves below the floor, not only the hysteresis.
    if raw == "under_review" and now - since >= policy.review_period:
        why = "; ".join(reasons) or "still below the floor"
        return _moved(updated, "suspended", f"Still below standard after the review period: {why}")
    return updated, change


def _moved(
    standing: SellerStanding, to: Standing, reason: str
) -> tuple[SellerStanding, Change | None]:
    if standing.standing == to:
        return standing, None
    return replace(standing, standing=to), Change(to, standing.standing, reason)


def decide(current: SellerStanding, to: Standing, reason: str) -> tuple[SellerStanding, Change]:
    """An operator's decision, with its reason."""
    if not reason.strip():
        raise StandardsError("A standing decision needs a reason")
    if current.standing == "revoked" and to != "revoked":
        raise StandardsError("A revoked seller stays revoked")
    under_review_since = current.under_review_since if to == "under_review" else None
    changed = replace(current, standing=to, under_review_since=under_review_since)
    return changed, Change(to, current.standing, reason)
