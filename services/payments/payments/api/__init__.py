"""Payments' HTTP API (through the gateway): routes at module level in `routes`, what they are
given in `dependencies`, what they answer in `views`."""

from datetime import timedelta

from fastapi import FastAPI

from payments.api import routes
from payments.api.dependencies import WebhookVerification
from payments.context import PaymentsContext


def install_api(
    app: FastAPI,
    ctx: PaymentsContext,
    *,
    webhook_secret: str,
    webhook_tolerance: timedelta,
) -> None:
    """Serve payments' routes on `app` with `ctx` (callers come from the kit's `CallerDep`), and
    Stripe's webhooks verified with `webhook_secret` within `webhook_tolerance`."""
    app.state.payments = ctx
    app.state.payments_webhooks = WebhookVerification(webhook_secret, webhook_tolerance)
    app.include_router(routes.router)


__all__ = ["install_api"]
