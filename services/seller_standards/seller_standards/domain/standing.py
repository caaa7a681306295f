"""The standing the metrics lead to (worse at once, better only past the hysteresis margin,
suspension after the review period), operators' decisions, and the change each causes. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from contracts.seller_standards import (
    SellerOrderSurge,
    SellerStandingChanged,
    SellerStandingDecided,
)
from seller_standards.domain.metrics import Metric, score, surging
from seller_standards.domain.policy import Direction, Policy, StandardsError

Standing = Literal["good", "at_risk", "under_review", "suspended", "revoked"]
LEVELS: tuple[Standing, ...] = ("good", "at_risk", "under_review")


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


@dataclass(frozen=True)
class SellerStanding:
    seller_id: str
    standing: Standing = "good"
    computed: Standing = "good"  # what the metrics last called for (operators may differ)
    under_review_since: datetime | None = None
    score: int = 100
    version: int = 0
    surge_alerted_at: datetime | None = None  # when the seller and an agent were last told

    @property
    def stored(self) -> bool:
        """Whether the service has heard of the seller (version 0: never stored)."""
        return self.version > 0


@dataclass(frozen=True)
class Change:
    """A standing decided, by the metrics or an operator: kept in the seller's history, and
    published when it moved (an operator may confirm the standing a seller has)."""

    standing: Standing
    previous: Standing
    reason: str

    def events(self, seller_id: str, at: datetime) -> tuple[SellerStandingChanged, ...]:
        if self.standing == self.previous:
            return ()
        changed = SellerStandingChanged(
            seller_id=seller_id,
            standing=self.standing,
            previous=self.previous,
            reason=self.reason,
            changed_at=at,
        )
        return (changed,)


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


def surge_alert(
    current: SellerStanding, surge: Metric, now: datetime, policy: Policy
) -> tuple[SellerStanding, SellerOrderSurge | None]:
    """A surge in the seller's orders is told (to the seller and an agent) once per recent
    period while it lasts, never held against them."""
    if not surging(surge, policy):
        return current, None
    last = current.surge_alerted_at
    if last is not None and now - last < policy.surge_recent:
        return current, None
    alert = SellerOrderSurge(
        seller_id=current.seller_id,
        recent_orders=surge.sample_size,
        recent_days=round(policy.surge_recent.total_seconds() / 86400),
        ratio=surge.value or 0.0,
        detected_at=now,
    )
    return replace(current, surge_alerted_at=now), alert


def decision_event(
    seller_id: str, change: Change, decision_id: str, by: str, at: datetime
) -> SellerStandingDecided:
    """What an operator's decision publishes, whether or not the standing moved: the record
    of who decided, which a replay folds back into the history."""
    return SellerStandingDecided(
        decision_id=decision_id,
        seller_id=seller_id,
        standing=change.standing,
        previous=change.previous,
        reason=change.reason,
        decided_by=by,
        decided_at=at,
    )


def decide(current: SellerStanding, to: Standing, reason: str) -> tuple[SellerStanding, Change]:
    """An operator's decision, with its reason."""
    if not reason.strip():
        raise StandardsError("A standing decision needs a reason")
    if current.standing == "revoked" and to != "revoked":
        raise StandardsError("A revoked seller stays revoked")
    under_review_since = current.under_review_since if to == "under_review" else None
    changed = replace(current, standing=to, under_review_since=under_review_since)
    return changed, Change(to, current.standing, reason)
