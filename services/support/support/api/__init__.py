"""Support's HTTP API (through the gateway): routes at module level in `routes`, what they are
given in `dependencies`, request bodies in `bodies`, what they answer in `views`."""

from collections.abc import Callable

from fastapi import FastAPI

from servicekit.http import Caller
from support.api import routes
from support.api.dependencies import authenticated_caller
from support.handlers.context import SupportContext


def install_api(app: FastAPI, ctx: SupportContext, caller: Callable[..., Caller]) -> None:
    """Serve support's routes on `app`: with `ctx`, callers authenticated by `caller` (the kit's
    dependency reading what the gateway forwards)."""
    app.state.support = ctx
    app.dependency_overrides[authenticated_caller] = caller
    app.include_router(routes.router)


__all__ = ["install_api"]
