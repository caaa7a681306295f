"""How a rule refuses: framework-free errors the API maps to problem details."""

from __future__ import annotations

from orders.domain.state_machine import Action, Actor, Status


class DomainError(Exception):
    """A rule refused the request; `code` tells the API layer which problem it is."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


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


class ActionForbidden(DomainError):
    """The actor may never take this action, whatever the order's state (403, not 409)."""

    def __init__(self, action: Action, actor: Actor) -> None:
        super().__init__("forbidden", f"A {actor.value} cannot {action.value.replace('_', ' ')}")


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what}-not-found", f"No {what} with that id is visible to you")
