"""What every route is given: the service's context, the caller the gateway authenticated, and
how Stripe's webhooks are verified."""

import inspect
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from payments.context import PaymentsContext
from servicekit.http import Caller, caller_dependency


@dataclass(frozen=True)
class WebhookVerification:
    secret: str
    tolerance: timedelta


def payments_context(request: Request) -> PaymentsContext:
    context: PaymentsContext = request.app.state.payments
    return context


def webhook_verification(request: Request) -> WebhookVerification:
    verification: WebhookVerification = request.app.state.payments_webhooks
    return verification


def authenticated_caller(**gateway_headers: str | None) -> Caller:
    """Replaced by the kit's caller dependency when the API is installed (`install_api`);
    an app that never bound one answers no request as anyone."""
    raise RuntimeError("payments' API was included without install_api: no caller dependency")


# The API documents are rendered from the routes as declared, not as overridden: declaring the
# headers the kit's caller reads keeps every route's documented parameters and 422 answer.
authenticated_caller.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    caller_dependency(""), eval_str=True
)


Context = Annotated[PaymentsContext, Depends(payments_context)]
CallerOf = Annotated[Caller, Depends(authenticated_caller)]
Webhooks = Annotated[WebhookVerification, Depends(webhook_verification)]
