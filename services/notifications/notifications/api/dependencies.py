"""What every route is given: the service's context and the caller the gateway authenticated."""

import inspect
from typing import Annotated

from fastapi import Depends, Request

from notifications.handlers import NotificationsContext
from servicekit.http import Caller, caller_dependency


def notifications_context(request: Request) -> NotificationsContext:
    context: NotificationsContext = request.app.state.notifications
    return context


def authenticated_caller(**gateway_headers: str | None) -> Caller:
    """Replaced by the kit's caller dependency when the API is installed (`install_api`);
    an app that never bound one answers no request as anyone."""
    raise RuntimeError("notifications' API was included without install_api: no caller dependency")


# The API documents are rendered from the routes as declared, not as overridden: declaring the
# headers the kit's caller reads keeps every route's documented parameters and 422 answer.
authenticated_caller.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    caller_dependency(""), eval_str=True
)

Context = Annotated[NotificationsContext, Depends(notifications_context)]
CallerOf = Annotated[Caller, Depends(authenticated_caller)]
