"""Seller standards' HTTP API (through the gateway): routes at module level in `routes`, what
they are given in `dependencies`, request bodies in `bodies`, what they answer in `views`."""

from fastapi import FastAPI

from seller_standards.api import routes
from seller_standards.handlers import StandardsContext


def install_api(app: FastAPI, ctx: StandardsContext) -> None:
    """Serve seller standards' routes on `app` with `ctx` (callers come from the kit's
    `CallerDep`)."""
    app.state.seller_standards = ctx
    app.include_router(routes.router)


__all__ = ["install_api"]
