"""Support's refusals: each names its problem-details status and slug, and may carry what is
possible instead."""

from __future__ import annotations

from typing import Any


class SupportError(Exception):
    status = 400
    slug = "bad-request"
    title = "Not possible"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.extra = extra  # problem details members: what is possible instead


class NotAllowed(SupportError):
    status = 403
    slug = "forbidden"


class Refused(SupportError):
    status = 409
    slug = "ticket-refused"


class InvalidResolution(SupportError):
    status = 422
    slug = "invalid-resolution"


class ResolutionImpossible(SupportError):
    """The resolution asks for money the order does not have to give: more than can still be
    refunded, credit above the limit, another currency. The answer says what is possible."""

    status = 409
    slug = "resolution-not-possible"


class NotYetKnown(SupportError):
    """Support has not yet heard from orders or payments about this order's money."""

    status = 409
    slug = "order-not-yet-known"
    title = "Not yet known"
