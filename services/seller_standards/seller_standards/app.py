"""Seller standards' composition root: `create_app()` builds the service from its settings.

uvicorn seller_standards.app:create_app --factory
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from seller_standards.api import install_api
from seller_standards.db import StandardsUnit
from seller_standards.domain.policy import Policy
from seller_standards.handlers import StandardsContext, event_router, reevaluate_sellers
from seller_standards.settings import StandardsSettings
from servicekit.domain.clock import Clock
from servicekit.hosting.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def policy_of(settings: StandardsSettings) -> Policy:
    return Policy(
        thresholds=dict(settings.thresholds),
        window=timedelta(days=settings.window_days),
        hysteresis=settings.hysteresis,
        review_period=timedelta(days=settings.review_days),
    )


def create_app(settings: StandardsSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or StandardsSettings()
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, clock=clock, unit=StandardsUnit)
    ctx = StandardsContext(db=runtime.db, clock=runtime.clock, policy=policy_of(settings))
    runtime.consume(event_router(ctx))
    runtime.timers.add("reevaluate-sellers", lambda now: reevaluate_sellers(ctx, now))
    app = runtime.fastapi_app(title="seller_standards")
    install_api(app, ctx)
    return app
