"""A background loop that does a step of work until there is none left, then waits to be
woken (or for its poll interval). Failures back off and retry; the relay and the services'
own workers (such as payments' card authorizations) run on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from servicekit.messaging.uow import when_unit_ends

log = structlog.get_logger(__name__)


class BackgroundWorker:
    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[bool]],
        *,
        poll_seconds: float = 0.5,
        max_backoff_seconds: float = 5.0,
        on_failure: Callable[[BaseException], Awaitable[None]] | None = None,
    ) -> None:
        """`step` answers True when it may have more to do right away."""
        self.name = name
        self.step = step
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.on_failure = on_failure
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._busy = True  # until a step has said there is nothing more to do right now

    @property
    def idle(self) -> bool:
        """Waiting with nothing to do now: its last step found no more work (or work only
        due later) and nobody has woken it since. A failing step keeps it busy."""
        return not self._busy and not self._wake.is_set()

    def wake(self) -> None:
        """There is new work. Called inside a unit of work (a handler that queued the work),
        the worker is woken when that unit ends, once the work is committed and visible."""
        if not when_unit_ends(self._wake.set):
            self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, timeout: float = 30.0) -> None:
        """Finish the work in hand (the loop drains what is left), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout=timeout)
        except TimeoutError:
            log.warning("worker did not finish in time; abandoning its work", worker=self.name)
            self._task.cancel()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            # Cleared before the step, not after: a wake that comes while the step runs is
            # for work the step may not have seen, so the wait below returns at once for it.
            self._wake.clear()
            self._busy = True
            try:
                more = await self.step()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "worker step failed, retrying",
                    worker=self.name,
                    error=repr(error),
                    delay=backoff,
                )
                if self.on_failure:
                    await self.on_failure(error)
                if self._stopping:
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)
                continue
            if more:
                continue
            self._busy = False
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
