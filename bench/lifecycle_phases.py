"""The lifecycle bench's phases and what each costs: the services' counters and every
process's CPU sampled between two moments (`Window`), waiting for a quiet platform, and the
ceiling, half-load (open loop) and late-shipment phases.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

from lifecycle_commands import finish, run_journey, take_steps
from lifecycle_orders import (
    OVERDUE,
    SIX_DAYS,
    STEPS,
    TICKET,
    WAIT_SECONDS,
    Bench,
    Journey,
    Plan,
    plan,
)
from observers import cpu_seconds, mail_count, scrape

# --- the phases -------------------------------------------------------------------------


@dataclass
class Window:
    """What each service counted (`observers.COUNTERS`) and the CPU each process used
    between two moments."""

    seconds: float
    counters: dict[str, dict[str, float]]
    cpu: dict[str, float]
    mails: int  # e-mails the SMTP catcher received

    def per_second(self, counter: str) -> float:
        return sum(counts[counter] for counts in self.counters.values()) / self.seconds

    @property
    def events_per_second(self) -> float:
        return self.per_second("published")


@dataclass(frozen=True)
class Sample:
    at: float
    counters: dict[str, dict[str, float]]
    cpu: dict[str, float]
    mails: int


async def sample(bench: Bench, at: float | None = None) -> Sample:
    """The services' counters and every process's CPU, at `at` (default now)."""
    if at is not None:
        await asyncio.sleep(max(0.0, at - time.time()))
    started = time.time()
    counters = await scrape(bench.service_urls)
    cpu = cpu_seconds(bench.pids, bench.databases)
    return Sample((started + time.time()) / 2, counters, cpu, mail_count(bench.maildir))


def between(first: Sample, last: Sample) -> Window:
    return Window(
        last.at - first.at,
        {
            service: {name: value - first.counters[service][name] for name, value in counts.items()}
            for service, counts in last.counters.items()
        },
        {name: last.cpu[name] - first.cpu.get(name, 0.0) for name in last.cpu},
        last.mails - first.mails,
    )


async def idle(bench: Bench, seconds: float) -> Window:
    """The platform with nothing to do: what its polling loops cost."""
    return between(await sample(bench), await sample(bench, time.time() + seconds))


async def settle(bench: Bench, limit: float = 600) -> float:
    """Wait until the platform is quiet (for 2 s nothing handled, published or e-mailed), so
    that what one phase left queued is not measured in the next; answer the seconds taken."""
    started = time.time()
    while time.time() - started < limit:
        window = await idle(bench, 2)
        if not (window.mails or window.per_second("handled") or window.per_second("published")):
            break
    return time.time() - started


@dataclass
class Ceiling:
    window: Window  # steady state: after the warm-up, until the clients stop
    journeys: list[Journey]
    events_per_order: float

    @property
    def orders_per_second(self) -> float:
        return self.window.events_per_second / self.events_per_order


async def ceiling(
    bench: Bench, *, clients: int, seconds: float, warmup: float, first_index: int
) -> Ceiling:
    """Orders offered as fast as the platform takes them: `clients` each drive one order's
    commands after another until `seconds` have passed (an order's last payment event is
    waited for apart, so a client goes on to its next order meanwhile); then every order is
    let finish."""
    indices = itertools.count(first_index)
    journeys: list[Journey] = []
    ending: list[asyncio.Task[None]] = []
    started = time.time()
    deadline = started + seconds

    async def client() -> None:
        while time.time() < deadline:
            journey = Journey(plan(next(indices)))
            journeys.append(journey)
            try:
                await take_steps(bench, journey, STEPS[journey.plan.kind])
            except Exception as error:
                journey.error = repr(error)
                continue
            ending.append(asyncio.create_task(finish(bench, journey)))

    first = await sample(bench)
    *_, steady_from, steady_to = await asyncio.gather(
        *(client() for _ in range(clients)),
        sample(bench, started + warmup),
        sample(bench, deadline),
    )
    await asyncio.gather(*ending)
    everything = between(first, await sample(bench))
    published = everything.per_second("published") * everything.seconds
    return Ceiling(between(steady_from, steady_to), journeys, published / max(1, len(journeys)))


@dataclass
class Load:
    rate: float  # orders/s offered
    gap: float
    journeys: list[Journey]
    arrivals: Window  # while orders arrived
    whole: Window  # from the first arrival until every order finished


async def offered_load(
    bench: Bench, *, rate: float, seconds: float, gap: float, first_index: int
) -> Load:
    """Open loop: order i is placed at start + i / rate, its later steps `gap` apart, each on
    time whether or not earlier orders (or its own earlier steps) are done."""
    count = max(1, round(rate * seconds))
    journeys = [Journey(plan(first_index + i)) for i in range(count)]
    await asyncio.gather(*(bench.crowd.seller(j.plan.seller) for j in journeys))  # beforehand
    start = time.time() + 1.0
    first = await sample(bench)
    *_, arriving, arrived = await asyncio.gather(
        *(run_journey(bench, j, arrival=start + i / rate, gap=gap) for i, j in enumerate(journeys)),
        sample(bench, start),
        sample(bench, start + count / rate),
    )
    return Load(
        rate, gap, journeys, between(arriving, arrived), between(first, await sample(bench))
    )


@dataclass
class Late:
    journeys: list[Journey]
    moved_at: float  # when the operator moved the clock
    tickets: list[float]  # ms from the clock move to each overdue order's ticket
    from_cause: list[float]  # ms from order.shipment_overdue to its ticket


async def late_shipments(bench: Bench, *, count: int, first_index: int) -> Late:
    """Orders accepted and not shipped; the clock passes their ship-by (six days), support
    opens a ticket for each; then the sellers ship late and the orders complete."""
    journeys = [Journey(Plan(first_index + i, "completed")) for i in range(count)]
    await asyncio.gather(*(take_steps(bench, j, ("place", "accept")) for j in journeys))
    moved_at = time.time()
    await bench.gateway.send(
        bench.crowd.operator, "POST", "/v1/ops/clock/advance", json={"seconds": SIX_DAYS}
    )
    await bench.crowd.read_clock()
    tickets, from_cause = [], []
    for journey in journeys:
        overdue = await bench.tail.wait_for(journey.order_id, OVERDUE, WAIT_SECONDS)
        ticket = await bench.tail.wait_for(
            journey.order_id,
            TICKET,
            WAIT_SECONDS,
            lambda s: s.data.get("reason") == "shipment_overdue",
        )
        tickets.append((ticket.at - moved_at) * 1000)
        from_cause.append((ticket.at - overdue.at) * 1000)

    await asyncio.gather(
        *(run_journey(bench, j, steps=("ship", "deliver", "confirm")) for j in journeys)
    )
    return Late(journeys, moved_at, tickets, from_cause)
