"""Payments' HTTP API (through the gateway): routes at module level in `routes`, what they are
given in `dependencies`, what they answer in `views`."""

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI

from payments.api import routes
from payments.api.dependencies import WebhookVerification, authenticated_caller
from payments.context import PaymentsContext
from servicekit.http import Caller


def install_api(
    app: FastAPI,
    ctx: PaymentsContext,
    caller: Callable[..., Caller],
    *,
    webhook_secret: str,
    webhook_tolerance: timedelta,
) -> None:
    """Serve payments' routes on `app`: with `ctx`, callers authenticated by `caller` (the kit's
    dependency reading what the gateway forwards), and Stripe's webhooks verified with
    `webhook_secret` within `webhook_tolerance`."""
    app.state.payments = ctx
    app.state.payments_webhooks = WebhookVerification(webhook_secret, webhook_tolerance)
    app.dependency_overrides[authenticated_caller] = caller
    app.include_router(routes.router)


__all__ = ["install_api"]
