"""Orders' HTTP API (reached through the gateway), as the README's tables list it: routes at
module level in `listing_routes` and `order_routes`, request bodies in `bodies`, responses in
`views`, refusals as problem details in `problems`."""

from collections.abc import Callable

from fastapi import FastAPI

from orders.api import listing_routes, order_routes
from orders.api.dependencies import authenticated_caller
from orders.api.problems import install_domain_problems
from orders.handlers import OrdersContext
from servicekit.http import Caller


def install_api(app: FastAPI, ctx: OrdersContext, caller: Callable[..., Caller]) -> None:
    """Serve orders' routes on `app`: with `ctx`, callers authenticated by `caller` (the kit's
    dependency reading what the gateway forwards), and domain refusals as problem details."""
    app.state.orders = ctx
    app.dependency_overrides[authenticated_caller] = caller
    app.include_router(listing_routes.router)
    app.include_router(order_routes.router)
    install_domain_problems(app)


__all__ = ["install_api", "install_domain_problems"]
