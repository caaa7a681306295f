"""The gateway's composition root.

uvicorn gateway.app:create_app --factory
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from gateway.api import Gateway, build_router
from gateway.settings import GatewaySettings
from servicekit.clock import Clock
from servicekit.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: GatewaySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, clock=clock)
    gateway = Gateway(settings, runtime.db, runtime.clock)
    runtime.on_start(gateway.bootstrap_operator)
    runtime.on_stop(gateway.close)
    return runtime.fastapi_app(build_router(gateway), title="Marketplace post-purchase API")
