"""Orders' HTTP API (reached through the gateway), as the README's tables list it: routes at
module level in `listing_routes` and `order_routes`, request bodies in `bodies`, responses in
`views`. The domain's refusals (`orders.domain.errors`) are answered as problem details by the
kit's handlers (`servicekit.hosting.http`), like every service's."""

from fastapi import FastAPI

from orders.api import event_routes, listing_routes, order_routes
from orders.handlers import OrdersContext


def install_api(app: FastAPI, ctx: OrdersContext) -> None:
    """Serve orders' routes on `app` with `ctx` (callers come from the kit's `CallerDep`)."""
    app.state.orders = ctx
    app.include_router(listing_routes.router)
    app.include_router(order_routes.router)
    app.include_router(event_routes.router)


__all__ = ["install_api"]
