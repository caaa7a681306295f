"""Payments' composition root: `create_app()` builds the service from its settings.

uvicorn payments.app:create_app --factory
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from payments.api import build_router
from payments.cards import CardProcessor, StripeCards
from payments.handlers import PaymentsContext, authorize_pending, event_router
from payments.settings import PaymentsSettings
from servicekit.clock import Clock
from servicekit.runtime import ServiceRuntime
from servicekit.worker import BackgroundWorker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    clock: Clock | None = None,
    cards: CardProcessor | None = None,
) -> FastAPI:
    settings = settings or PaymentsSettings()
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, clock=clock)
    ctx = PaymentsContext(
        db=runtime.db,
        clock=runtime.clock,
        cards=cards or StripeCards(settings.stripe_api_key, settings.stripe_api_base),
        authorization_hold=timedelta(days=settings.authorization_hold_days),
        concurrency=settings.authorization_concurrency,
    )
    authorizer = BackgroundWorker(
        "card-authorizations", lambda: authorize_pending(ctx), poll_seconds=0.5
    )
    runtime.add_worker(authorizer)
    runtime.consume(event_router(ctx, on_queued=authorizer.wake))
    return runtime.fastapi_app(build_router(ctx, runtime.caller), title="payments")
