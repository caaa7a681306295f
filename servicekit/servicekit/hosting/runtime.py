"""The composition every service shares: database, broker, relay and timers, started and
stopped in the right order, plus the operational endpoints.

A service's `app.py` builds a `ServiceRuntime` from its settings, registers its event
handlers and timer jobs, and asks for the ASGI app:

    runtime = ServiceRuntime(settings, migrations_dir=MIGRATIONS, unit=OrdersUnit)
    runtime.consume(router)  # an EventRouter[OrdersUnit]
    app = runtime.fastapi_app(api_router, title="orders")

Start-up: migrate the database, start the relay, start consuming, start the timers.
Shutdown (SIGTERM): stop consuming (the batch in hand finishes, or is not acknowledged),
stop the timers, let the relay publish what is left, close connections.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar, cast, overload

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.domain.clock import Clock, ManualClock
from servicekit.hosting.http import (
    Problem,
    install_problem_handlers,
    install_request_context,
)
from servicekit.hosting.logs import configure_logging
from servicekit.hosting.settings import KitSettings
from servicekit.hosting.timers import TimerLoop
from servicekit.messaging import failpoints, migrations
from servicekit.messaging.broker import make_broker
from servicekit.messaging.consumer import BatchProcessor, EventRouter, subscribe
from servicekit.messaging.db import make_engine
from servicekit.messaging.inbox_pruning import InboxPruner
from servicekit.messaging.metrics import CONSUMER_LAG
from servicekit.messaging.relay import OutboxRelay, make_producer
from servicekit.messaging.uow import Database, UnitOfWork
from servicekit.messaging.worker import BackgroundWorker
from servicekit.operations import ops, topology

log = structlog.get_logger(__name__)
U = TypeVar("U", bound=UnitOfWork)


class ClockMove(BaseModel):
    now: AwareDatetime


class ServiceRuntime(Generic[U]):
    """`unit` is the service's `UnitOfWork` subclass: `db` opens it, and the handlers given
    to `consume` receive it (a plain `UnitOfWork` when not given)."""

    @overload
    def __init__(
        self: ServiceRuntime[UnitOfWork],
        settings: KitSettings,
        *,
        migrations_dir: Path,
        clock: Clock | None = None,
        engine: AsyncEngine | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        settings: KitSettings,
        *,
        migrations_dir: Path,
        unit: type[U],
        clock: Clock | None = None,
        engine: AsyncEngine | None = None,
    ) -> None: ...
    def __init__(
        self,
        settings: KitSettings,
        *,
        migrations_dir: Path,
        unit: type[U] | None = None,
        clock: Clock | None = None,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.migrations_dir = migrations_dir
        self.clock = clock or settings.make_clock()
        self.engine = engine or make_engine(settings.resolved_database_url())
        self.kafka_security = settings.kafka_security()
        self.producer = make_producer(
            settings.kafka_bootstrap_servers,
            idempotence=settings.kafka_idempotence,
            client_id=f"{self.name}-relay",
            request_timeout_ms=settings.relay_request_timeout_ms,
            security=self.kafka_security,
        )
        self.relay = OutboxRelay(
            self.engine,
            self.producer,
            batch_size=settings.relay_batch_size,
            poll_seconds=settings.relay_poll_seconds,
            lock_name=f"{self.name}-outbox-relay",
        )
        # Without `unit` the first overload has made this a ServiceRuntime[UnitOfWork].
        self.db: Database[U] = Database(
            self.engine,
            source=self.name,
            clock=self.clock,
            unit=unit if unit is not None else cast("type[U]", UnitOfWork),
            on_outbox_written=self.relay.wake,
        )
        self.broker = make_broker(
            settings.kafka_bootstrap_servers, service_name=self.name, security=self.kafka_security
        )
        failpoints.arm(settings.failpoints)
        self.timers = TimerLoop(self.clock, interval=settings.timer_interval_seconds)
        if not settings.internal_token and not settings.open_internal_api:
            raise RuntimeError(
                "MARKETPLACE_INTERNAL_TOKEN is not set: without it anyone who reaches this "
                "service could claim any identity (set MARKETPLACE_OPEN_INTERNAL_API=true only "
                "where nothing but the gateway can reach it)"
            )
        self._consuming = False
        self._consumed_topics: list[str] = []
        self.workers: list[BackgroundWorker] = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []

    def on_start(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` once the database is migrated, before requests are served."""
        self._on_start.append(hook)

    def on_stop(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._on_stop.append(hook)

    def add_worker(self, worker: BackgroundWorker) -> None:
        """A service's own background loop, started after the relay and stopped before it."""
        self.workers.append(worker)

    def consume(self, router: EventRouter[U]) -> None:
        """Handle `router`'s event types as the consumer group named after the service."""
        processor = BatchProcessor(
            self.db, router, group=self.name, handler_attempts=self.settings.handler_attempts
        )
        subscribe(
            self.broker,
            processor,
            batch_size=self.settings.consumer_batch_size,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
        )
        self._consuming = True
        self._consumed_topics = sorted(router.topics)
        # Event ids are remembered while their events can come back, then pruned.
        try:
            keep = topology.inbox_keep(self.name)
        except FileNotFoundError:
            log.warning("no topics file: the inbox is never pruned", path=topology.TOPICS_FILE)
            keep = {}
        every = timedelta(seconds=self.settings.inbox_prune_every_seconds)
        self.timers.add("prune-inbox", InboxPruner(self.engine, keep, every=every))

    async def start(self) -> None:
        configure_logging(self.name, level=self.settings.log_level, fmt=self.settings.log_format)
        await migrations.upgrade(self.engine, self.migrations_dir)
        await self.producer.start()
        if self.settings.relay_enabled:
            await self.relay.start()
        for worker in self.workers:
            await worker.start()
        if self._consuming:
            await self.broker.start()
        await self.timers.start()
        for hook in self._on_start:
            await hook()
        log.info(
            "service started",
            consuming=self._consuming,
            database=self.engine.url.render_as_string(hide_password=True),
        )

    async def stop(self) -> None:
        for hook in self._on_stop:
            await hook()
        if self._consuming:
            await self.broker.stop()
        await self.timers.stop()
        for worker in self.workers:
            await worker.stop()
        await self.relay.stop()
        await self.producer.stop()
        await self.engine.dispose()
        log.info("service stopped")

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def ready(self) -> dict[str, bool]:
        checks = {"database": False}
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = True
        except Exception as error:
            log.warning("readiness: database unreachable", error=repr(error))
        if self._consuming:  # only a consumer needs the broker to be ready
            checks["broker"] = False
            try:
                checks["broker"] = bool(await asyncio.wait_for(self.broker.ping(2.0), 3.0))
            except Exception as error:
                log.warning("readiness: broker unreachable", error=repr(error))
        return checks

    async def pending(self) -> dict[str, int]:
        """The work this service has in hand: outbox rows not yet published, events on its
        topics not yet handled, and each background worker not yet idle (1) or idle (0).
        All zero means it will do nothing more until an event arrives or time passes."""
        work = {"outbox": await self.relay.backlog()}
        if self._consuming:
            rows = await ops.lag(
                self.settings.kafka_bootstrap_servers,
                self.name,
                self._consumed_topics,
                security=self.kafka_security,
            )
            work["consumer_lag"] = sum(row.lag for row in rows)
        for worker in self.workers:
            work[f"worker:{worker.name}"] = 0 if worker.idle else 1
        return work

    async def refresh_lag(self) -> None:
        """Read the group's lag from the broker into `marketplace_consumer_lag`. A scrape
        every few seconds costs one short broker connection; a broker that does not answer
        leaves the last figures and a warning rather than failing the scrape."""
        try:
            rows = await asyncio.wait_for(
                ops.lag(
                    self.settings.kafka_bootstrap_servers,
                    self.name,
                    self._consumed_topics,
                    security=self.kafka_security,
                ),
                5.0,
            )
        except Exception as error:
            log.warning("consumer lag unavailable", error=repr(error))
            return
        for row in rows:
            CONSUMER_LAG.labels(self.name, row.topic, str(row.partition)).set(row.lag)

    def ops_router(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok", "service": self.name}

        @router.get("/ready")
        async def ready() -> JSONResponse:
            checks = await self.ready()
            ok = all(checks.values())
            return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

        @router.get("/metrics")
        async def metrics() -> PlainTextResponse:
            await self.relay.backlog()
            if self._consuming:
                await self.refresh_lag()
            return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        internal_token = self.settings.internal_token

        def internal_only(x_internal_token: str | None = Header(None)) -> None:
            if internal_token and not hmac.compare_digest(x_internal_token or "", internal_token):
                raise Problem(401, "Unauthenticated", "Internal endpoint", slug="unauthenticated")

        @router.get("/internal/pending", dependencies=[Depends(internal_only)])
        async def pending() -> dict[str, Any]:
            work = await self.pending()
            return {"service": self.name, "pending": work, "settled": not any(work.values())}

        if isinstance(self.clock, ManualClock):

            @router.put("/internal/clock", dependencies=[Depends(internal_only)])
            async def move_clock(move: ClockMove) -> dict[str, Any]:
                fired = await self.timers.advance_to(move.now)
                return {"now": self.clock.now().isoformat(), "fired": fired}

            @router.get("/internal/clock", dependencies=[Depends(internal_only)])
            async def read_clock() -> dict[str, datetime]:
                return {"now": self.clock.now()}

        return router

    def fastapi_app(
        self, api: APIRouter | None = None, *, title: str, version: str = "0.1.0"
    ) -> FastAPI:
        app = FastAPI(title=title, version=version, lifespan=self.lifespan)
        install_problem_handlers(app)
        install_request_context(app)
        app.include_router(self.ops_router())
        if api is not None:
            app.include_router(api)
        app.state.runtime = self
        app.state.internal_token = self.settings.internal_token
        return app
