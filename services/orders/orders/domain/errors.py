"""How a rule refuses: the kit's `Refusal`, which its HTTP layer answers as problem details.
409 for "not now", 403 for "never yours", 404 for what the caller may not see, 422 for the
rest."""

from __future__ import annotations

from orders.domain.state_machine import Action, Actor, Status
from servicekit.domain.refusals import Kind, Refusal

# The codes that are not 422: "not now" (409) and "never yours" (403).
KIND_OF_CODE = {
    "invalid-transition": Kind.CONFLICT,
    "action-not-allowed": Kind.CONFLICT,
    "insufficient-stock": Kind.CONFLICT,
    "listing-unavailable": Kind.CONFLICT,
    "not-a-party": Kind.FORBIDDEN,
    "forbidden": Kind.FORBIDDEN,
    "carrier-not-named": Kind.FORBIDDEN,
    "tracking-number-in-use": Kind.CONFLICT,
    "payment-hold-lapsed": Kind.CONFLICT,
    "event-cancelled": Kind.CONFLICT,
    "event-started": Kind.CONFLICT,
    "event-over": Kind.CONFLICT,
    "transfer-reference-in-use": Kind.CONFLICT,
}


class DomainError(Refusal):
    """A rule refused the request; `code` says which problem it is (its slug, and its title
    in words), and `KIND_OF_CODE` its kind."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(
            detail,
            kind=KIND_OF_CODE.get(code, Kind.INVALID),
            slug=code,
            title=code.replace("-", " ").capitalize(),
        )
        self.code = code


class TransitionRefused(DomainError):
    """Not now: the order's state (or a condition such as the return window) does not allow
    the action. The API answers 409 with the order's status and what is allowed instead."""

    def __init__(
        self,
        status: Status,
        action: Action,
        allowed: list[str],
        *,
        code: str = "invalid-transition",
        detail: str | None = None,
    ) -> None:
        super().__init__(code, detail or f"An order that is {status.value} cannot {action.value}")
        self.status = status
        self.allowed = allowed
        self.kind = Kind.CONFLICT
        self.title = "Action not allowed now"
        self.extra = {"order_status": status.value, "allowed_actions": allowed}


class ActionForbidden(DomainError):
    """The actor may never take this action, whatever the order's state (403, not 409)."""

    def __init__(self, action: Action, actor: Actor) -> None:
        super().__init__("forbidden", f"A {actor.value} cannot {action.value.replace('_', ' ')}")


class NotFound(DomainError):
    """What the caller may not see, or what is not there (404 `not-found`: the two look alike)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}-not-found", f"No {what} with that id is visible to you")
        self.kind = Kind.NOT_FOUND
        self.slug = "not-found"
        self.title = "Not found"
