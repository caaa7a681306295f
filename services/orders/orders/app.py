"""Orders' composition root: `create_app()` builds the service from its settings.

uvicorn orders.app:create_app --factory
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from orders.api import install_api
from orders.db import OrdersUnit
from orders.domain import OrderRules
from orders.handlers import OrdersContext, event_router, timer_jobs
from orders.settings import OrdersSettings
from servicekit.domain.calendar import BusinessCalendar
from servicekit.domain.clock import Clock
from servicekit.hosting.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: OrdersSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or OrdersSettings()
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, clock=clock, unit=OrdersUnit)
    ctx = OrdersContext(
        db=runtime.db,
        clock=runtime.clock,
        calendar=BusinessCalendar(settings.holidays),
        rules=OrderRules(
            acceptance_business_days=settings.acceptance_business_days,
            transit_business_days=settings.transit_business_days,
            confirmation_days=settings.confirmation_days,
            return_days=settings.return_days,
            pickup_business_days=settings.pickup_business_days,
            redelivery_window_days=settings.redelivery_window_days,
            event_horizon_days=settings.event_horizon_days,
            payment_window_minutes=settings.payment_window_minutes,
            shipment_grace_business_days=settings.shipment_grace_business_days,
            unscanned_days=settings.unscanned_days,
            delivery_failed_days=settings.delivery_failed_days,
            return_confirm_days=settings.return_confirm_days,
            exchange_grace_business_days=settings.exchange_grace_business_days,
            resale_release_after=settings.resale_release_after,
            event_cutoff=settings.event_cutoff,
        ),
    )
    runtime.consume(event_router(ctx))
    for name, job in timer_jobs(ctx).items():
        runtime.timers.add(name, job)
    app = runtime.fastapi_app(title="orders")
    install_api(app, ctx)
    return app
