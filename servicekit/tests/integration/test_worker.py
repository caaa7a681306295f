import asyncio

from servicekit.messaging.worker import BackgroundWorker


def counting_worker(steps: asyncio.Queue[int], release: asyncio.Event) -> BackgroundWorker:
    """A worker with a long poll whose steps are numbered on `steps`; the first one waits
    for `release`."""
    taken = 0

    async def step() -> bool:
        nonlocal taken
        taken += 1
        steps.put_nowait(taken)
        if taken == 1:
            await release.wait()
        return False

    return BackgroundWorker("test", step, poll_seconds=30)


async def test_a_wake_while_a_step_runs_is_not_lost():
    steps: asyncio.Queue[int] = asyncio.Queue()
    release = asyncio.Event()
    worker = counting_worker(steps, release)
    await worker.start()
    try:
        assert await asyncio.wait_for(steps.get(), 5) == 1
        worker.wake()  # new work arrives while the first step is busy
        release.set()
        assert await asyncio.wait_for(steps.get(), 5) == 2  # not after the 30 s poll
    finally:
        await worker.stop()


async def test_a_wake_inside_a_unit_of_work_comes_when_it_ends(db):
    steps: asyncio.Queue[int] = asyncio.Queue()
    release = asyncio.Event()
    release.set()
    worker = counting_worker(steps, release)
    await worker.start()
    try:
        assert await asyncio.wait_for(steps.get(), 5) == 1
        async with db.unit_of_work() as uow:
            worker.wake()  # the work it is woken for is not committed yet
            await asyncio.sleep(0.1)
            assert steps.empty()
            await uow.commit()
        assert await asyncio.wait_for(steps.get(), 5) == 2
    finally:
        await worker.stop()


async def test_a_worker_is_idle_only_once_a_step_found_nothing_more_to_do():
    steps: asyncio.Queue[int] = asyncio.Queue()
    release = asyncio.Event()
    worker = counting_worker(steps, release)
    assert not worker.idle  # not started: it has not looked for work yet
    await worker.start()
    try:
        assert await asyncio.wait_for(steps.get(), 5) == 1
        assert not worker.idle  # in its first step
        release.set()
        for _ in range(50):
            if worker.idle:
                break
            await asyncio.sleep(0.01)
        assert worker.idle
        worker.wake()
        assert not worker.idle  # woken for new work it has not looked at yet
    finally:
        await worker.stop()


async def test_a_worker_whose_step_fails_is_not_idle():
    async def failing() -> bool:
        raise RuntimeError("Stripe did not answer")

    worker = BackgroundWorker("failing", failing, poll_seconds=30)
    await worker.start()
    try:
        await asyncio.sleep(0.2)
        assert not worker.idle
    finally:
        await worker.stop(timeout=0.5)
