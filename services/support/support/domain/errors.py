"""Support's refusals: the kit's `Refusal`, each naming its kind and slug, and possibly what is
possible instead. The kit's HTTP layer answers them as problem details."""

from __future__ import annotations

from typing import Any

from servicekit.domain.refusals import Kind, Refusal


class SupportError(Refusal):
    kind = Kind.INVALID
    slug = "bad-request"
    title = "Not possible"

    def __init__(self, detail: str, **extra: Any) -> None:
        # `extra` are problem details members: what is possible instead
        super().__init__(detail, extra=extra)

    @property
    def status(self) -> int:
        """The HTTP status it is answered with (`Kind`'s value)."""
        return self.kind.value


class NotAllowed(SupportError):
    kind = Kind.FORBIDDEN
    slug = "forbidden"


class Refused(SupportError):
    kind = Kind.CONFLICT
    slug = "ticket-refused"


class InvalidResolution(SupportError):
    kind = Kind.INVALID
    slug = "invalid-resolution"


class ResolutionImpossible(SupportError):
    """The resolution asks for money the order does not have to give: more than can still be
    refunded, credit above the limit, another currency. The answer says what is possible."""

    kind = Kind.CONFLICT
    slug = "resolution-not-possible"


class NotYetKnown(SupportError):
    """Support has not yet heard from orders or payments about this order's money: asked again
    after `retry_after_seconds` (5 when not said), the answer may differ."""

    kind = Kind.CONFLICT
    slug = "order-not-yet-known"
    title = "Not yet known"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = extra.get("retry_after_seconds", 5)
