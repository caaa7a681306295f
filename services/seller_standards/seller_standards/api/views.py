"""A seller's standards as the API shows them."""

from datetime import datetime
from typing import Any

from contracts.text import control_character_fault
from seller_standards.domain.facts import Review
from seller_standards.handlers import Standards
from servicekit.hosting.http import Problem
from servicekit.hosting.pagination import decode_cursor


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


def review_view(review: Review) -> dict[str, Any]:
    return {
        "id": review.review_id,
        "order_id": review.order_id,
        "rating": review.rating,
        "text": review.text,
        "created_at": review.at.isoformat(),
        "flagged": review.misuse,
    }


def _bad_cursor() -> Problem:
    return Problem(
        422,
        "Invalid request",
        "The cursor is not one this list gave out",
        slug="validation-error",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


def reviews_after(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a page of reviews starts: after the (written at, id) a cursor names."""
    if not cursor:
        return None
    written, review_id = decode_cursor(cursor, 2)
    try:
        moment = datetime.fromisoformat(written)
    except ValueError as error:
        raise _bad_cursor() from error
    if moment.tzinfo is None or control_character_fault(review_id, multiline=False):
        raise _bad_cursor()
    return moment, review_id
