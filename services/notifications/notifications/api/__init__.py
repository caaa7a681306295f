"""Notifications' HTTP API (through the gateway): routes at module level in `routes`, what they
are given in `dependencies`, what they answer in `views`."""

from fastapi import FastAPI

from notifications.api import routes
from notifications.handlers import NotificationsContext


def install_api(app: FastAPI, ctx: NotificationsContext) -> None:
    """Serve notifications' routes on `app` with `ctx` (callers come from the kit's `CallerDep`)."""
    app.state.notifications = ctx
    app.include_router(routes.router)


__all__ = ["install_api"]
