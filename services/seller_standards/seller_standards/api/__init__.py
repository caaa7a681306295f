"""Seller standards' HTTP API (through the gateway): routes at module level in `routes`, what
they are given in `dependencies`, request bodies in `bodies`, what they answer in `views`."""

from collections.abc import Callable

from fastapi import FastAPI

from seller_standards.api import routes
from seller_standards.api.dependencies import authenticated_caller
from seller_standards.handlers import StandardsContext
from servicekit.http import Caller


def install_api(app: FastAPI, ctx: StandardsContext, caller: Callable[..., Caller]) -> None:
    """Serve seller standards' routes on `app`: with `ctx`, callers authenticated by `caller`
    (the kit's dependency reading what the gateway forwards)."""
    app.state.seller_standards = ctx
    app.dependency_overrides[authenticated_caller] = caller
    app.include_router(routes.router)


__all__ = ["install_api"]
