"""Notifications' HTTP API (through the gateway): routes at module level in `routes`, what they
are given in `dependencies`, what they answer in `views`."""

from collections.abc import Callable

from fastapi import FastAPI

from notifications.api import routes
from notifications.api.dependencies import authenticated_caller
from notifications.handlers import NotificationsContext
from servicekit.http import Caller


def install_api(app: FastAPI, ctx: NotificationsContext, caller: Callable[..., Caller]) -> None:
    """Serve notifications' routes on `app`: with `ctx`, callers authenticated by `caller` (the
    kit's dependency reading what the gateway forwards)."""
    app.state.notifications = ctx
    app.dependency_overrides[authenticated_caller] = caller
    app.include_router(routes.router)


__all__ = ["install_api"]
