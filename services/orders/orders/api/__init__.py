"""Orders' HTTP API (reached through the gateway), as the README's tables list it: routes at
module level in `listing_routes` and `order_routes`, request bodies in `bodies`, responses in
`views`, refusals as problem details in `problems`."""

from fastapi import FastAPI

from orders.api import listing_routes, order_routes
from orders.api.problems import install_domain_problems
from orders.handlers import OrdersContext


def install_api(app: FastAPI, ctx: OrdersContext) -> None:
    """Serve orders' routes on `app` with `ctx` (callers come from the kit's `CallerDep`), and
    domain refusals as problem details."""
    app.state.orders = ctx
    app.include_router(listing_routes.router)
    app.include_router(order_routes.router)
    install_domain_problems(app)


__all__ = ["install_api", "install_domain_problems"]
