"""Support's composition root: `create_app()` builds the service from its settings.

uvicorn support.app:create_app --factory
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from servicekit.domain.calendar import BusinessCalendar
from servicekit.domain.clock import Clock
from servicekit.hosting.runtime import ServiceRuntime
from support.api import install_api
from support.db import SupportUnit
from support.handlers.clocks import timer_jobs
from support.handlers.context import SupportContext
from support.handlers.events import event_router
from support.settings import SupportSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: SupportSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or SupportSettings()
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, clock=clock, unit=SupportUnit)
    ctx = SupportContext(
        db=runtime.db,
        clock=runtime.clock,
        calendar=BusinessCalendar(settings.holidays, opens=settings.opens, closes=settings.closes),
        reply_within=timedelta(hours=settings.reply_within_hours),
        targets=dict(settings.sla),
        credit_limit_ratio=settings.credit_limit_ratio,
        close_after=timedelta(days=settings.close_after_days),
    )
    runtime.consume(event_router(ctx))
    for name, job in timer_jobs(ctx).items():
        runtime.timers.add(name, job)
    app = runtime.fastapi_app(title="support")
    install_api(app, ctx)
    return app
