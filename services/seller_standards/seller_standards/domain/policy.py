"""The published standards: each metric's target and floor, the windows and margins, and the
exemptions operators record for isolated events (a natural disaster) that no seller answers
for. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from servicekit.domain.refusals import Kind, Refusal


class StandardsError(Refusal):
    """A standards rule refused: answered 422 `standards-refused`, saying why."""

    kind = Kind.INVALID
    slug = "standards-refused"
    title = "Not possible"


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
