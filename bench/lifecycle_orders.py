"""The lifecycle bench's orders and clients: the event types it watches, what each order is
planned to be (`Plan`) and what happened to it (`Journey`), the gateway as a careful client
calls it, and the people (`Crowd`) who place, answer, ship and resolve orders.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from observers import Tail

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

    async def sellers(self) -> list[Seller]:
        """Every seller made so far."""
        return [await made for made in self._sellers.values()]

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
