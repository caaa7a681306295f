"""Deadlines: each service registers jobs that fire what has come due by the clock's `now`.

A job is `async (now) -> int` (how many deadlines it fired). The loop runs them every
`interval` seconds; on a manual clock, `advance_to` moves the clock and runs them at once, so
the caller knows the deadlines now due have fired when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog

from servicekit.domain.clock import Clock, ManualClock
from servicekit.messaging import metrics
from servicekit.messaging.failures import is_transient

log = structlog.get_logger(__name__)

TimerJob = Callable[[datetime], Awaitable[int]]
JOB_ATTEMPTS = 5


class TimerLoop:
    def __init__(self, clock: Clock, *, interval: float = 1.0) -> None:
        self.clock = clock
        self.interval = interval
        self.jobs: dict[str, TimerJob] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def add(self, name: str, job: TimerJob) -> None:
        self.jobs[name] = job

    async def run_due(self) -> int:
        """Run every job until none has anything left due; answer how many fired."""
        fired = 0
        async with self._lock:
            while True:
                now = self.clock.now()
                this_round = 0
                for name, job in self.jobs.items():
                    count = await self._run_job(name, job, now)
                    metrics.TIMERS_FIRED.labels(name).inc(count)
                    this_round += count
                fired += this_round
                if this_round == 0:
                    return fired

    async def _run_job(self, name: str, job: TimerJob, now: datetime) -> int:
        """A job that meets a transient failure (a deadlock with a consumer touching the same
        rows, a concurrent update) is run again; its work is idempotent by design."""
        for attempt in range(1, JOB_ATTEMPTS + 1):
            try:
                return await job(now)
            except Exception as error:
                if attempt == JOB_ATTEMPTS or not is_transient(error):
                    raise
                log.warning("timer job failed; running it again", job=name, error=repr(error))
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def advance_to(self, when: datetime) -> int:
        if not isinstance(self.clock, ManualClock):
            raise RuntimeError("only a manual clock can be moved")
        self.clock.set(when)
        return await self.run_due()

    async def start(self) -> None:
        if self.jobs:
            self._task = asyncio.create_task(self._run(), name="timers")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("a timer job failed; it runs again next tick", error=repr(error))
            await asyncio.sleep(self.interval)
