"""Payments' composition root: `create_app()` builds the service from its settings.

uvicorn payments.app:create_app --factory
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from payments.api import install_api
from payments.cards import CardProcessor, StripeCards
from payments.context import PaymentsContext
from payments.db import PaymentsUnit
from payments.domain.payouts import PayoutPolicy
from payments.domain.rebooking import RebookCharge
from payments.domain.waiting_accounts import Chase
from payments.handlers import event_router, renew_expiring_authorizations
from payments.payout_run import PayoutRunner
from payments.payouts import Connect, StripeConnect
from payments.settings import PaymentsSettings
from payments.worker import CardOperationWorker
from servicekit.domain.clock import Clock
from servicekit.hosting.runtime import ServiceRuntime
from servicekit.messaging.exclusive import ExclusiveLock
from servicekit.messaging.worker import BackgroundWorker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class UnsafeSettings(RuntimeError):
    """Payments refuses to start with these settings."""


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    clock: Clock | None = None,
    cards: CardProcessor | None = None,
    connect: Connect | None = None,
) -> FastAPI:
    settings = settings or PaymentsSettings()
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, clock=clock, unit=PaymentsUnit)
    stripe_cards = StripeCards(
        settings.stripe_api_key, settings.stripe_api_base, timeout=settings.stripe_timeout_seconds
    )
    ctx = PaymentsContext(
        db=runtime.db,
        clock=runtime.clock,
        cards=cards or stripe_cards,
        connect=connect or StripeConnect(stripe_cards.client),
        authorization_hold=timedelta(days=settings.authorization_hold_days),
        renew_before=timedelta(hours=settings.renew_before_hours),
        fee_bps=settings.platform_fee_bps,
        credit_limit_bps=settings.credit_limit_bps,
        rebook_charge=RebookCharge(settings.rebook_charge_seller, settings.rebook_charge_cap_bps),
        payout_policy=PayoutPolicy(
            minimum_minor=settings.payout_minimum,
            new_seller_hold=timedelta(days=settings.payout_hold_days),
            chase=Chase(
                remind_after=timedelta(days=settings.payout_account_remind_after_days),
                remind_every=timedelta(days=settings.payout_account_remind_every_days),
                ticket_after=timedelta(days=settings.payout_account_ticket_after_days),
            ),
        ),
        payout_interval=timedelta(hours=settings.payout_interval_hours),
        onboarding_return_url=settings.portal_url.rstrip("/") + "/portal/payouts",
    )
    lock = ExclusiveLock(runtime.db.engine, "payments-card-operations")
    card_operations = CardOperationWorker(
        ctx, concurrency=settings.authorization_concurrency, lock=lock
    )
    worker = BackgroundWorker("card-operations", card_operations.run_once, poll_seconds=0.5)
    ctx.wake_worker = worker.wake
    runtime.add_worker(worker)
    runtime.on_stop(lock.release)
    payout_lock = ExclusiveLock(runtime.db.engine, "payments-payouts")
    runner = PayoutRunner(ctx)

    async def make_payouts() -> bool:
        return await payout_lock.held() and await runner.work_once()

    payout_worker = BackgroundWorker("payouts", make_payouts, poll_seconds=5)
    ctx.wake_payouts = payout_worker.wake
    runtime.add_worker(payout_worker)
    runtime.on_stop(payout_lock.release)
    runtime.consume(event_router(ctx))
    runtime.timers.add(
        "renew-expiring-authorizations", lambda now: renew_expiring_authorizations(ctx, now)
    )
    runtime.timers.add("payout-run", runner.when_due)
    app = runtime.fastapi_app(title="payments")
    install_api(
        app,
        ctx,
        webhook_secret=settings.stripe_webhook_secret,
        webhook_tolerance=timedelta(seconds=settings.webhook_tolerance_seconds),
        run_payouts=runner.run,
    )
    starting = app.router.lifespan_context

    @asynccontextmanager
    async def refusing_unsafe_settings(application: FastAPI) -> AsyncIterator[None]:
        # Checked when the service starts, not when it is built: the API documents are
        # rendered from an app built with the defaults.
        fault = settings.webhook_secret_fault()
        if fault:
            raise UnsafeSettings(f"payments refuses to start: {fault}")
        async with starting(application):
            yield

    app.router.lifespan_context = refusing_unsafe_settings
    return app
