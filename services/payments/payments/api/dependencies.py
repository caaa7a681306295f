"""What every route is given besides the caller (the kit's `CallerDep`): the service's context
and how Stripe's webhooks are verified."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from payments.context import PaymentsContext


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


Context = Annotated[PaymentsContext, Depends(payments_context)]
Webhooks = Annotated[WebhookVerification, Depends(webhook_verification)]
