"""A seller's standards as the API shows them."""

from datetime import datetime
from typing import Any

from seller_standards.handlers import Standards


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def standards_view(seller_id: str, shown: Standards, window_days: float) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "standing": shown.standing.standing,
        "score": shown.standing.score,
        "under_review_since": _iso(shown.standing.under_review_since),
        "metrics": {
            name: {
                "value": metric.value,
                "threshold": metric.threshold.target if metric.threshold else None,
                "floor": metric.threshold.floor if metric.threshold else None,
                "direction": metric.threshold.direction.value if metric.threshold else None,
                "minimum_sample": metric.threshold.min_sample if metric.threshold else None,
                "sample_size": metric.sample_size,
                "judged": metric.judged,
                "window_days": window_days,
                "orders": list(metric.orders),
            }
            for name, metric in shown.metrics.items()
        },
        "history": shown.history,
        "exemptions": [
            {"from": e.starts.isoformat(), "to": e.ends.isoformat(), "reason": e.reason}
            for e in shown.exemptions
        ],
    }
