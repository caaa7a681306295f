"""The whole lifecycle under load, on the real broker and PostgreSQL (issue #10).

Starts the platform (the embedded broker, localstripe, an SMTP catcher, every service on
PostgreSQL when one answers, else SQLite, on the manual clock) and drives orders through the
gateway as careful clients would (idempotency keys, a retry on "changed meanwhile"). Clients
act on the events they see published (`observers.Tail`) instead of polling the API: a seller
accepts once the payment is authorized, an agent resolves the ticket that opened.

Each seller lists one item with ten in stock and gets ten orders: placed, authorized,
accepted, shipped, captured, delivered, confirmed, released. The tenth goes wrong: every other
seller declines it (the hold is voided), the others' buyers report it "not as described" and
an agent refunds it. With ten orders (the standards' minimum sample) that moves the seller's
standing. So 5% of orders are declined and 5% disputed and refunded.

1. Ceiling: `--clients` clients each drive orders back to back for `--saturation-seconds`;
   the events published across the services per second after a warm-up (the sum of their
   `marketplace_outbox_published_total`) is the chained services' ceiling.
2. Half load: orders arrive on a fixed schedule at half that ceiling, open loop: each order is
   placed at its time whether or not earlier ones are done, and its steps follow at fixed
   offsets (`--step-seconds` apart). Each latency runs from the scheduled time of the command
   that made the status change to the moment its effect was published (capture, ticket,
   standing) or its e-mail reached the SMTP catcher (notification), so a platform or a client
   that falls behind shows in the figures instead of slowing the load down (no coordinated
   omission). Beside it: the same latency from the cause's own record on Kafka.
3. Late shipments: `--late` orders accepted and not shipped; the clock moves six days,
   support opens tickets, the sellers ship late and the orders complete.

Then the raw aiokafka passthrough on the same broker (`hop.py`), every order's ledger, CPU
seconds per 1,000 orders and the peak memory of each service.

    uv run python bench/lifecycle.py [--saturation-seconds 30] [--load-seconds 60] [--rate R]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from devstack import components
from devstack.processes import Child
from devstack.pytest_plugin import (
    _postgres_server_url,
    drop_postgres_database,
    fresh_postgres_database,
)
from devstack.stack import SERVICES, Stack, StackConfig
from servicekit.operations import ops
from servicekit.operations.ops import DeadLetter

sys.path.insert(0, str(Path(__file__).parent))
from hop import raw_passthrough
from observers import (
    Seen,
    Tail,
    cpu_seconds,
    mail_count,
    mail_times,
    peak_memory_mib,
    scrape,
)

WAIT_SECONDS = float(os.environ.get("LIFECYCLE_WAIT_SECONDS", "120"))
ORDERS_PER_SELLER = 10  # the standards' minimum sample: the tenth order moves the standing
SIX_DAYS = 6 * 86400


PLACED = "marketplace.order.placed.v1"
ACCEPTED = "marketplace.order.accepted.v1"
DECLINED = "marketplace.order.declined.v1"
SHIPPED = "marketplace.order.shipped.v1"
OVERDUE = "marketplace.order.shipment_overdue.v1"
DELIVERED = "marketplace.order.delivered.v1"
COMPLETED = "marketplace.order.completed.v1"
PROBLEM = "marketplace.order.problem_reported.v1"
AUTHORIZED = "marketplace.payment.authorized.v1"
CAPTURED = "marketplace.payment.captured.v1"
RELEASED = "marketplace.payment.released.v1"
REFUNDED = "marketplace.payment.refunded.v1"
VOIDED = "marketplace.payment.voided.v1"
TICKET = "marketplace.support.ticket_opened.v1"
STANDING = "marketplace.seller.standing_changed.v1"

Kind = Literal["completed", "declined", "disputed"]
STEPS: dict[Kind, tuple[str, ...]] = {
    "completed": ("place", "accept", "ship", "deliver", "confirm"),
    "disputed": ("place", "accept", "ship", "deliver", "report", "resolve"),
    "declined": ("place", "decline"),
}
ENDS: dict[Kind, str] = {"completed": RELEASED, "disputed": REFUNDED, "declined": VOIDED}
COMMAND_OF = {  # which command's status change publishes each order event
    PLACED: "place",
    ACCEPTED: "accept",
    DECLINED: "decline",
    SHIPPED: "ship",
    DELIVERED: "deliver",
    COMPLETED: "confirm",
    PROBLEM: "report",
}


# --- what each order is and what happened to it ------------------------------------------


@dataclass(frozen=True)
class Plan:
    index: int
    kind: Kind

    @property
    def seller(self) -> int:
        return self.index // ORDERS_PER_SELLER


def plan(index: int) -> Plan:
    """Every seller's tenth order goes wrong: declined (even sellers) or disputed (odd)."""
    seller, nth = divmod(index, ORDERS_PER_SELLER)
    if nth < ORDERS_PER_SELLER - 1:
        return Plan(index, "completed")
    return Plan(index, "declined" if seller % 2 == 0 else "disputed")


@dataclass
class Journey:
    """One order: its plan, when each command was due (epoch seconds) and, for a command
    whose previous step was done before it was due, how late the bench itself sent it."""

    plan: Plan
    order_id: str = ""
    tracking_number: str = field(default_factory=lambda: f"TRK{uuid.uuid4().hex[:12].upper()}")
    due: dict[str, float] = field(default_factory=dict)
    late_by: dict[str, float] = field(default_factory=dict)
    finished: bool = False
    error: str | None = None


# --- the clients ------------------------------------------------------------------------


class Gateway:
    """The public API as a careful client calls it."""

    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base,
            timeout=60,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
        )
        self.retries: Counter[str] = Counter()  # what the clients had to try again, by cause

    async def send(
        self, token: str, method: str, path: str, *, later: bool = False, **options: Any
    ) -> dict[str, Any]:
        """One call with an Idempotency-Key (a connection lost before the answer is sent
        again safely); a 409 "changed meanwhile" is tried again with a new key, as the
        problem's detail asks, and with `later`, so is an action not allowed yet (the order
        has not taken in an event the client has already seen)."""
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + WAIT_SECONDS
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, path, headers=headers, **options)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                self.retries["connection lost"] += 1
                await asyncio.sleep(0.1)
                continue
            retry = self._retry(response, later)
            if retry is None or time.monotonic() > deadline:
                break
            self.retries[retry] += 1
            headers["Idempotency-Key"] = str(uuid.uuid4())  # a new attempt, not a repeat
            attempt += 1
            await asyncio.sleep(min(0.5, 0.02 * 2 ** min(attempt, 5)))
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        body: dict[str, Any] = response.json()
        return body

    @staticmethod
    def _retry(response: httpx.Response, later: bool) -> str | None:
        if response.status_code != 409:
            return None
        slug = response.json().get("type", "")
        if slug.endswith("/concurrent-update"):
            return "changed meanwhile (409)"
        if later and slug.endswith(("/invalid-transition", "/action-not-allowed")):
            return "not allowed yet (409)"
        return None


@dataclass(frozen=True)
class Seller:
    token: str
    listing_id: str


class Crowd:
    """The people: buyers, a carrier, an agent, the operator, and sellers made as needed
    (one per ten orders, each with a listing of ten)."""

    def __init__(self, gateway: Gateway, operator: str) -> None:
        self.gateway = gateway
        self.operator = operator
        self.buyers: list[str] = []
        self.carrier = ""
        self.agent = ""
        self.clock_now = ""  # the platform's (manual) time, for carrier scans
        self._sellers: dict[int, asyncio.Task[Seller]] = {}

    async def gather(self, buyers: int) -> None:
        self.buyers = [await self.principal("buyer") for _ in range(buyers)]
        self.carrier = await self.principal("carrier")
        self.agent = await self.principal("agent")
        await self.read_clock()

    async def read_clock(self) -> None:
        self.clock_now = (await self.gateway.send(self.operator, "GET", "/v1/ops/clock"))["now"]

    async def principal(self, role: str) -> str:
        made = await self.gateway.send(
            self.operator,
            "POST",
            "/v1/principals",
            json={
                "role": role,
                "name": role,
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
                **({"carrier": "DHL"} if role == "carrier" else {}),
            },
        )
        return str(made["token"])

    def buyer(self, index: int) -> str:
        return self.buyers[index % len(self.buyers)]

    def seller(self, number: int) -> Awaitable[Seller]:
        if number not in self._sellers:
            self._sellers[number] = asyncio.ensure_future(self._new_seller(number))
        return self._sellers[number]

    async def _new_seller(self, number: int) -> Seller:
        token = await self.principal("seller")
        listing = await self.gateway.send(
            token,
            "POST",
            "/v1/listings",
            json={
                "title": f"Item {number}",
                "price": {"amount_minor": 5000 + number, "currency": "EUR"},
                "quantity_available": ORDERS_PER_SELLER,
                "fulfilment": "seller_ships",
                "handling_days": 2,
            },
        )
        return Seller(token, listing["id"])


@dataclass
class Bench:
    gateway: Gateway
    crowd: Crowd
    tail: Tail
    service_urls: dict[str, str]
    pids: dict[str, int]
    databases: set[str]
    maildir: Path


# --- the commands -----------------------------------------------------------------------

Action = Callable[[Bench, Journey], Awaitable[None]]
ADDRESS = {
    "name": "Bea",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


async def place(bench: Bench, journey: Journey) -> None:
    seller = await bench.crowd.seller(journey.plan.seller)
    order = await bench.gateway.send(
        bench.crowd.buyer(journey.plan.index),
        "POST",
        "/v1/orders",
        json={
            "listing_id": seller.listing_id,
            "quantity": 1,
            "payment_method": "pm_card_visa",
            "shipping_address": ADDRESS,
        },
    )
    journey.order_id = order["id"]


async def seller_answers(bench: Bench, journey: Journey, answer: str, **body: Any) -> None:
    """The seller acts once the authorization is published (the order may take it in a
    moment later: then the action is tried again)."""
    await bench.tail.wait_for(journey.order_id, AUTHORIZED, WAIT_SECONDS)
    seller = await bench.crowd.seller(journey.plan.seller)
    path = f"/v1/orders/{journey.order_id}/{answer}"
    await bench.gateway.send(seller.token, "POST", path, later=True, **body)


async def accept(bench: Bench, journey: Journey) -> None:
    await seller_answers(bench, journey, "accept")


async def decline(bench: Bench, journey: Journey) -> None:
    await seller_answers(bench, journey, "decline", json={"reason": "Sold elsewhere"})


async def ship(bench: Bench, journey: Journey) -> None:
    seller = await bench.crowd.seller(journey.plan.seller)
    await bench.gateway.send(
        seller.token,
        "POST",
        f"/v1/orders/{journey.order_id}/ship",
        json={"carrier": "DHL", "tracking_number": journey.tracking_number},
    )


async def deliver(bench: Bench, journey: Journey) -> None:
    await bench.gateway.send(
        bench.crowd.carrier,
        "POST",
        "/v1/carrier-events",
        json={
            "tracking_number": journey.tracking_number,
            "status": "delivered",
            "occurred_at": bench.crowd.clock_now,
        },
    )


async def confirm(bench: Bench, journey: Journey) -> None:
    buyer = bench.crowd.buyer(journey.plan.index)
    await bench.gateway.send(buyer, "POST", f"/v1/orders/{journey.order_id}/confirm-receipt")


async def report(bench: Bench, journey: Journey) -> None:
    await bench.gateway.send(
        bench.crowd.buyer(journey.plan.index),
        "POST",
        f"/v1/orders/{journey.order_id}/report-problem",
        json={"reason": "not_as_described", "details": "Not as described"},
    )


def not_as_described(seen: Seen) -> bool:
    return seen.data.get("reason") == "not_as_described"


async def resolve(bench: Bench, journey: Journey) -> None:
    ticket = await bench.tail.wait_for(journey.order_id, TICKET, WAIT_SECONDS, not_as_described)
    await bench.gateway.send(
        bench.crowd.agent,
        "POST",
        f"/v1/tickets/{ticket.data['ticket_id']}/resolve",
        json={"action": "refund", "note": "Refunded"},
    )


ACTIONS: dict[str, Action] = {
    "place": place,
    "accept": accept,
    "decline": decline,
    "ship": ship,
    "deliver": deliver,
    "confirm": confirm,
    "report": report,
    "resolve": resolve,
}


async def take_steps(
    bench: Bench,
    journey: Journey,
    steps: Iterable[str],
    *,
    arrival: float | None = None,
    gap: float = 0.0,
) -> None:
    """Each step at `arrival + k * gap` (open loop), or as soon as the previous one was
    answered when `arrival` is None (closed loop). A step's due time is where its latencies
    start, whatever kept the client from sending it then."""
    for k, step in enumerate(steps):
        ready = time.time()
        due = ready if arrival is None else arrival + k * gap
        await asyncio.sleep(max(0.0, due - ready))
        journey.due[step] = due
        if due >= ready:  # not held up by its previous step: how late the bench itself was
            journey.late_by[step] = time.time() - due
        await ACTIONS[step](bench, journey)


async def finish(bench: Bench, journey: Journey) -> None:
    """Wait for the order's last payment event (released, refunded or voided); not seeing
    it is kept on the journey, not raised."""
    try:
        await bench.tail.wait_for(journey.order_id, ENDS[journey.plan.kind], WAIT_SECONDS)
        journey.finished = True
    except TimeoutError as error:
        journey.error = str(error)


async def run_journey(
    bench: Bench,
    journey: Journey,
    *,
    steps: Iterable[str] | None = None,
    arrival: float | None = None,
    gap: float = 0.0,
) -> None:
    """Drive one order to its end (all its steps, or `steps`); a failure is kept on the
    journey, not raised."""
    try:
        await take_steps(
            bench, journey, steps or STEPS[journey.plan.kind], arrival=arrival, gap=gap
        )
    except Exception as error:
        journey.error = repr(error)
        return
    await finish(bench, journey)


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


# --- measuring --------------------------------------------------------------------------


@dataclass
class Latencies:
    from_command: list[float] = field(default_factory=list)  # ms from the command's due time
    from_cause: list[float] = field(default_factory=list)  # ms from the cause's record
    causes: Counter[str] = field(default_factory=Counter)


Found = Callable[[Journey], float | None]  # when a journey's effect was observable


@dataclass(frozen=True)
class Effect:
    name: str
    command: str  # the command whose status change causes it
    cause: str  # the event that status change published
    found: Found


def published_at(tail: Tail, effect: str, wanted: Callable[[Seen], bool] = lambda _: True) -> Found:
    def found(journey: Journey) -> float | None:
        seen = tail.first(journey.order_id, effect, wanted)
        return seen.at if seen else None

    return found


def mailed_at(mails: dict[tuple[str, str], float], kind: str) -> Found:
    def found(journey: Journey) -> float | None:
        return mails.get((journey.order_id, kind))

    return found


def effects(tail: Tail, mails: dict[tuple[str, str], float]) -> list[Effect]:
    """The status changes the half-load phase times, each to its effect in another service."""
    return [
        Effect("placed -> authorized", "place", PLACED, published_at(tail, AUTHORIZED)),
        Effect("shipped -> captured", "ship", SHIPPED, published_at(tail, CAPTURED)),
        Effect(
            "authorized -> buyer e-mailed",
            "place",
            AUTHORIZED,
            mailed_at(mails, "order_confirmed.buyer"),
        ),
        Effect(
            "shipped -> buyer e-mailed", "ship", SHIPPED, mailed_at(mails, "order_shipped.buyer")
        ),
        Effect(
            "problem -> ticket", "report", PROBLEM, published_at(tail, TICKET, not_as_described)
        ),
        Effect("completed -> released", "confirm", COMPLETED, published_at(tail, RELEASED)),
    ]


def order_latencies(journeys: list[Journey], tail: Tail, effect: Effect) -> Latencies:
    found = Latencies()
    for journey in journeys:
        cause = tail.first(journey.order_id, effect.cause) if journey.order_id else None
        when = effect.found(journey) if cause else None
        if cause is None or when is None or effect.command not in journey.due:
            continue
        found.from_command.append((when - journey.due[effect.command]) * 1000)
        found.from_cause.append((when - cause.at) * 1000)
    return found


def standing_latencies(journeys: list[Journey], tail: Tail) -> Latencies:
    """Each standing change, from what caused it (its causation id) to its publication."""
    by_order = {journey.order_id: journey for journey in journeys}
    found = Latencies()
    for change in tail.of_type(STANDING):
        cause = tail.by_id.get(change.causation_id or "")
        journey = by_order.get(cause.key) if cause else None
        command = COMMAND_OF.get(cause.type) if cause else None
        if cause is None or journey is None or command not in journey.due:
            continue
        found.from_command.append((change.at - journey.due[command]) * 1000)
        found.from_cause.append((change.at - cause.at) * 1000)
        found.causes[cause.type.split(".")[2]] += 1
    return found


async def mails_by_order(bench: Bench) -> dict[tuple[str, str], float]:
    """When each buyer's e-mail reached the SMTP catcher, by (order id, message kind): the
    kinds come from each buyer's inbox (`GET /v1/me/notifications`)."""
    times = mail_times(bench.maildir)
    found: dict[tuple[str, str], float] = {}
    for buyer in bench.crowd.buyers:
        cursor: str | None = None
        while True:
            params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = await bench.gateway.send(buyer, "GET", "/v1/me/notifications", params=params)
            for item in page["items"]:
                if item["id"] in times and item["order_id"]:
                    found[(item["order_id"], item["kind"])] = times[item["id"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return found


async def ledgers_balance(bench: Bench, order_ids: list[str]) -> list[str]:
    """The orders whose ledger lines do not sum to zero in every currency."""
    limit = asyncio.Semaphore(8)

    async def unbalanced(order_id: str) -> bool:
        async with limit:
            ledger = await bench.gateway.send(
                bench.crowd.operator, "GET", f"/v1/ledger/orders/{order_id}"
            )
        totals: dict[str, int] = defaultdict(int)
        for line in ledger["lines"]:
            totals[line["amount"]["currency"]] += line["amount"]["amount_minor"]
        return any(totals.values())

    flags = await asyncio.gather(*(unbalanced(order_id) for order_id in order_ids))
    return [order_id for order_id, bad in zip(order_ids, flags, strict=True) if bad]


# --- the report -------------------------------------------------------------------------

SERVICE_NAMES = {name for name, _, _ in SERVICES} | {"gateway"}


@dataclass
class Results:
    settled: dict[str, float]  # seconds the platform took to be quiet after each phase
    idle: Window
    ceiling: Ceiling | None
    load: Load
    rows: dict[str, Latencies]
    late: Late
    raw: float
    memory: dict[str, float]
    journeys: list[Journey]
    unbalanced: list[str]
    histories: dict[str, list[Seen]]  # the events of each order that did not finish
    dead_letters: list[DeadLetter]


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def quantiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"{'':>35} n={len(values)}"
    figures = (percentile(values, 50), percentile(values, 95), percentile(values, 99), max(values))
    return " ".join(f"{figure:>8,.0f}" for figure in figures) + f"  n={len(values)}"


def cpu_line(window: Window) -> str:
    """How many cores were busy, and with what (shares of one core)."""
    shares = sorted(window.cpu.items(), key=lambda item: -item[1])
    busy = sum(seconds for _, seconds in shares) / window.seconds
    parts = ", ".join(f"{name} {seconds / window.seconds:.0%}" for name, seconds in shares)
    return f"CPU: {busy:.2f} of {os.cpu_count()} cores busy; of one core: {parts}"


def events_line(window: Window) -> str:
    by_service = ", ".join(
        f"{service} {counts['published'] / window.seconds:,.0f}"
        for service, counts in sorted(window.counters.items())
    )
    return (
        f"events/s published across the services: {window.events_per_second:,.0f} "
        f"({by_service}); handled by their consumers: {window.per_second('handled'):,.0f}; "
        f"e-mails sent: {window.mails / window.seconds:,.1f}/s"
    )


def consumers_line(window: Window) -> str:
    """Per service: events handled per second, batches per second, mean ms per batch."""
    parts = []
    for service, counts in sorted(window.counters.items()):
        batches = counts["batches"]
        mean = counts["batch_seconds"] / batches * 1000 if batches else 0.0
        parts.append(
            f"{service} {counts['handled'] / window.seconds:,.0f}/s in "
            f"{batches / window.seconds:,.1f} batches/s of {mean:,.0f} ms"
        )
    return "consumers: " + "; ".join(parts)


def print_machine(args: argparse.Namespace) -> None:
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.database}; embedded broker (Tansu, memory)"
    )
    print(
        f"load average (1 min) before the platform started: {args.load_before:.2f} "
        f"(above 1, something else was running); at the end: {os.getloadavg()[0]:.2f}"
    )


def print_idle(window: Window) -> None:
    print(f"\n0. idle, {window.seconds:.0f} s: {cpu_line(window)}")


def print_ceiling(result: Ceiling, raw: float, clients: int) -> None:
    window = result.window
    rate = window.events_per_second
    print(f"\n1. ceiling: {clients} clients driving orders back to back, {window.seconds:.0f} s")
    print(events_line(window) + " (target: 3,000 published)")
    print(
        f"raw aiokafka passthrough on the same broker: {raw:,.0f} events/s (ratio {rate / raw:.1%})"
    )
    print(
        f"orders/s at the ceiling: {result.orders_per_second:,.1f} "
        f"({result.events_per_order:.1f} events published per order, {len(result.journeys)} orders)"
    )
    print(consumers_line(window))
    print(cpu_line(window))


def print_load(load: Load, rows: dict[str, Latencies]) -> None:
    window = load.arrivals
    print(
        f"\n2. half load, open loop: {load.rate:.1f} orders/s offered for {window.seconds:.0f} s "
        f"({len(load.journeys)} orders, steps {load.gap:g} s apart)"
    )
    print(events_line(window))
    print(consumers_line(window))
    print(cpu_line(window))
    lateness = [seconds * 1000 for j in load.journeys for seconds in j.late_by.values()]
    print(f"the bench behind its own schedule: p99 {percentile(lateness, 99):,.0f} ms")
    print(f"\n{'latency, ms':<42}{'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (target p99 < 100)")
    for name, found in rows.items():
        causes = ", ".join(f"{cause} {count}" for cause, count in found.causes.items())
        print(name + (f" (caused by: {causes})" if causes else ""))
        print(f"  {'from the command due':<40}{quantiles(found.from_command)}")
        print(f"  {'from the cause published':<40}{quantiles(found.from_cause)}")


def print_settled(seconds: float, after: str) -> None:
    print(f"quiet again (nothing handled, published or e-mailed) {seconds:.0f} s after {after}")


def print_late(late: Late) -> None:
    print(f"\n3. late shipments: {len(late.journeys)} orders, then the clock moved six days")
    print(f"  {'clock moved -> ticket':<40}{quantiles(late.tickets)}")
    print(f"  {'overdue published -> ticket':<40}{quantiles(late.from_cause)}")


def print_costs(load: Load, idle: Window, memory: dict[str, float]) -> None:
    whole = load.whole
    per_order = 1000 / len(load.journeys)
    platform_cpu = sum(seconds for name, seconds in whole.cpu.items() if name in SERVICE_NAMES)
    idling = sum(s for name, s in idle.cpu.items() if name in SERVICE_NAMES) / idle.seconds
    print(
        f"\nCPU seconds per 1,000 orders at half load, services and gateway: "
        f"{platform_cpu * per_order:,.0f} (of which idle polling "
        f"{idling * whole.seconds * per_order:,.0f}); with the broker, Stripe, SMTP, "
        f"PostgreSQL and the bench: {sum(whole.cpu.values()) * per_order:,.0f}"
    )
    print(
        "peak memory: "
        + ", ".join(f"{name} {mib:,.0f} MiB" for name, mib in sorted(memory.items()))
    )


def print_outcome(gateway: Gateway, results: Results) -> None:
    journeys = results.journeys
    failed = [j for j in journeys if j.error or not j.finished]
    kinds = Counter(j.plan.kind for j in journeys)
    print(f"\norders: {len(journeys)} ({', '.join(f'{k} {n}' for k, n in kinds.items())})")
    print(f"client retries: {dict(gateway.retries) or 'none'}")
    print(f"orders that did not reach their end: {len(failed)}")
    for journey in failed[:5]:
        print(f"  {journey.order_id or journey.plan}: {journey.error or 'unfinished'}")
        print(f"    its events: {history_line(results.histories.get(journey.order_id, []))}")
    print(f"events dead-lettered: {len(results.dead_letters)}")
    for letter in results.dead_letters[:5]:
        print(f"  {letter.group} {letter.event_type} {letter.key}: {letter.error[:200]}")
    unbalanced = results.unbalanced
    print(f"every order's ledger balances: {not unbalanced} ({len(unbalanced)} unbalanced)")


def history_line(history: list[Seen]) -> str:
    """`placed +0.00 s, authorized +0.41 s, ...`: an order's events from its first."""
    if not history:
        return "none seen"
    first = history[0].at
    return ", ".join(f"{seen.type.split('.')[2]} +{seen.at - first:.2f} s" for seen in history)


def print_results(args: argparse.Namespace, results: Results, gateway: Gateway) -> None:
    print_machine(args)
    print_idle(results.idle)
    if results.ceiling:
        print_ceiling(results.ceiling, results.raw, args.clients)
        print_settled(results.settled["ceiling"], "the clients stopped")
    else:
        print(f"\nraw aiokafka passthrough: {results.raw:,.0f} events/s (no ceiling: --rate given)")
    print_load(results.load, results.rows)
    print_settled(results.settled["half load"], "the last order ended")
    print_late(results.late)
    print_costs(results.load, results.idle, results.memory)
    print_outcome(gateway, results)


# --- running it -------------------------------------------------------------------------


async def run_phases(bench: Bench, args: argparse.Namespace, stack: Stack) -> Results:
    settled = {"start": await settle(bench)}
    quiet = await idle(bench, args.idle_seconds)
    found = None
    rate = args.rate
    if rate is None:
        found = await ceiling(
            bench,
            clients=args.clients,
            seconds=args.saturation_seconds,
            warmup=args.warmup_seconds,
            first_index=0,
        )
        rate = found.orders_per_second / 2
        settled["ceiling"] = await settle(bench)
    load = await offered_load(
        bench,
        rate=rate,
        seconds=args.load_seconds,
        gap=args.step_seconds,
        first_index=next_block(found.journeys if found else []),
    )
    settled["half load"] = await settle(bench)
    late = await late_shipments(bench, count=args.late, first_index=next_block(load.journeys))
    raw = await raw_passthrough(stack.bootstrap, 20000, uuid.uuid4().hex[:6])
    mails = await mails_by_order(bench)
    rows = {
        e.name: order_latencies(load.journeys, bench.tail, e) for e in effects(bench.tail, mails)
    }
    rows["status change -> standing"] = standing_latencies(load.journeys, bench.tail)
    journeys = (found.journeys if found else []) + load.journeys + late.journeys
    unbalanced = await ledgers_balance(bench, [j.order_id for j in journeys if j.order_id])
    services = {name: pid for name, pid in bench.pids.items() if name in SERVICE_NAMES}
    memory = peak_memory_mib(services)
    histories = {
        j.order_id: bench.tail.history(j.order_id)
        for j in journeys
        if j.order_id and (j.error or not j.finished)
    }
    dead_letters = await ops.dead_letters(stack.bootstrap)
    return Results(
        settled,
        quiet,
        found,
        load,
        rows,
        late,
        raw,
        memory,
        journeys,
        unbalanced,
        histories,
        dead_letters,
    )


async def drive(stack: Stack, args: argparse.Namespace, pids: dict[str, int]) -> None:
    gateway = Gateway(f"http://127.0.0.1:{stack.config.gateway_port}")
    tail = Tail(stack.bootstrap)
    await tail.start()
    try:
        crowd = Crowd(gateway, stack.config.operator_token)
        await crowd.gather(args.buyers)
        bench = Bench(
            gateway, crowd, tail, stack.service_urls, pids, args.database_names, stack.maildir
        )
        results = await run_phases(bench, args, stack)
    finally:
        await tail.stop()
        await gateway.http.aclose()
    print_results(args, results, gateway)


def next_block(journeys: list[Journey]) -> int:
    """The first index of a seller no journey so far has used."""
    used = max((j.plan.index for j in journeys), default=-1) + 1
    return -(-used // ORDERS_PER_SELLER) * ORDERS_PER_SELLER


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=64, help="clients in the ceiling phase")
    parser.add_argument("--saturation-seconds", type=float, default=30)
    parser.add_argument("--warmup-seconds", type=float, default=5)
    parser.add_argument("--rate", type=float, help="orders/s offered; skips the ceiling phase")
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--step-seconds", type=float, default=1.0)
    parser.add_argument("--late", type=int, default=10, help="orders shipped late")
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument("--keep", action="store_true", help="keep the logs and mail afterwards")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    args.load_before = os.getloadavg()[0]
    server = _postgres_server_url() if args.database != "sqlite" else None
    args.database = "postgresql" if server else "sqlite"
    scratch = Path(tempfile.mkdtemp(prefix="lifecycle-"))
    logs = scratch / "logs"
    logs.mkdir()
    names = (*(name for name, _, _ in SERVICES), "gateway")
    databases = {name: fresh_postgres_database(server) for name in names} if server else {}
    args.database_names = {name for _, name in databases.values()}
    broker, bootstrap = components.broker(log_dir=logs)
    stripe, stripe_base = components.localstripe(log_dir=logs)
    smtp, smtp_port = components.smtp_catcher(maildir=scratch / "mail", log_dir=logs)
    stack = Stack(
        StackConfig.on_parts(
            scratch,
            bootstrap=bootstrap,
            stripe_api_base=stripe_base,
            smtp=(smtp_port, scratch / "mail"),
            database_urls={name: url for name, (url, _) in databases.items()},
        )
    )
    started: list[Child] = []
    try:
        for child in (broker, stripe, smtp):
            started.append(child.start())
        stack.start()
        children = [*started, *stack.children]
        pids = {child.name: child.process.pid for child in children if child.process}
        asyncio.run(drive(stack, args, pids))
    finally:
        stack.stop()
        for child in reversed(started):
            child.stop()
        for _, name in databases.values():
            drop_postgres_database(server, name)
        if args.keep:
            print(f"logs and mail kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
