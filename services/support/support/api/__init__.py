"""Support's HTTP API (through the gateway): routes at module level in `routes`, what they are
given in `dependencies`, request bodies in `bodies`, what they answer in `views`."""

from fastapi import FastAPI

from support.api import routes
from support.handlers.context import SupportContext


def install_api(app: FastAPI, ctx: SupportContext) -> None:
    """Serve support's routes on `app` with `ctx` (callers come from the kit's `CallerDep`)."""
    app.state.support = ctx
    app.include_router(routes.router)


__all__ = ["install_api"]
