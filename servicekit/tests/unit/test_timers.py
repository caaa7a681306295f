"""Deadlines fire when the clock reaches them; a job that meets a transient failure runs
again, a broken one is reported."""

from datetime import UTC, datetime, timedelta

import pytest

from servicekit.domain.clock import ManualClock
from servicekit.hosting.timers import TimerLoop
from servicekit.messaging.failures import ConcurrentUpdate

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def test_moving_the_clock_fires_what_came_due_and_answers_how_many():
    due = [START + timedelta(hours=1), START + timedelta(hours=2), START + timedelta(days=1)]
    fired = []

    async def job(now):
        ready = [d for d in due if d <= now and d not in fired]
        fired.extend(ready)
        return len(ready)

    loop = TimerLoop(ManualClock(START))
    loop.add("deadlines", job)
    assert await loop.advance_to(START + timedelta(hours=3)) == 2
    assert await loop.advance_to(START + timedelta(hours=4)) == 0
    assert fired == due[:2]


async def test_a_job_that_races_a_consumer_runs_again_instead_of_failing_the_clock():
    attempts = []

    async def job(now):
        attempts.append(now)
        if len(attempts) < 3:
            raise ConcurrentUpdate("a consumer changed the same row")
        return 0

    loop = TimerLoop(ManualClock(START))
    loop.add("racing", job)
    assert await loop.advance_to(START + timedelta(minutes=1)) == 0
    assert len(attempts) == 3


async def test_a_broken_job_is_reported_not_retried():
    calls = []

    async def job(now):
        calls.append(now)
        raise ValueError("a bug")

    loop = TimerLoop(ManualClock(START))
    loop.add("broken", job)
    with pytest.raises(ValueError, match="a bug"):
        await loop.advance_to(START + timedelta(minutes=1))
    assert len(calls) == 1
