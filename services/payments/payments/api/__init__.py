"""Payments' HTTP API (through the gateway): routes at module level in `routes`, what they are
given in `dependencies`, what they answer in `views`."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import FastAPI

from payments.api import routes, seller_routes
from payments.api.dependencies import WebhookVerification
from payments.context import PaymentsContext
from payments.domain.payouts import Payout


def install_api(
    app: FastAPI,
    ctx: PaymentsContext,
    *,
    webhook_secret: str,
    webhook_tolerance: timedelta,
    run_payouts: Callable[[], Awaitable[list[Payout]]],
) -> None:
    """Serve payments' routes on `app` with `ctx` (callers come from the kit's `CallerDep`), and
    Stripe's webhooks verified with `webhook_secret` within `webhook_tolerance`."""
    app.state.payments = ctx
    app.state.payments_webhooks = WebhookVerification(webhook_secret, webhook_tolerance)
    app.state.run_payouts = run_payouts
    app.include_router(routes.router)
    app.include_router(seller_routes.router)


__all__ = ["install_api"]
