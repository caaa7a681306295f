"""Orders driven through their whole lifecycle while a fault is injected: each journey has
its own buyer and seller, so that every e-mail, ticket and ledger line the checks look at
belongs to exactly one order.

Clients behave as careful clients must: every command carries an Idempotency-Key and is sent
again, with the same key, when the connection drops, the platform answers 5xx, or the first
attempt is still in progress; after 409 "changed meanwhile" it is sent with a new key, as the
problem's detail asks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from e2e_helpers import Api, listing_body, order_body

WAIT_SECONDS = 120.0  # services restart and groups rebalance meanwhile
WEBHOOK_SECRET = "whsec_reliability"  # what the reliability stack's payments verifies with


@dataclass
class Journey:
    seller: Api
    buyer: Api
    disputed: bool = False
    order_id: str = ""
    tracking_number: str = ""

    @property
    def ending(self) -> str:
        return "refunded" if self.disputed else "released"


@dataclass
class Crowd:
    operator: Api
    carrier: Api
    agent: Api

    def principal(self, role: str) -> Api:
        made = command(
            self.operator,
            "POST",
            "/v1/principals",
            {
                "role": role,
                "name": role.title(),
                "email": f"{uuid.uuid4().hex[:10]}@example.com",
                **({"carrier": "DHL"} if role == "carrier" else {}),
            },
        )
        return Api(str(self.operator.http.base_url), made["token"], made)

    def journeys(self, count: int, *, disputed_every: int = 0) -> list[Journey]:
        return [
            Journey(
                self.principal("seller"),
                self.principal("buyer"),
                disputed=bool(disputed_every) and index % disputed_every == disputed_every - 1,
            )
            for index in range(count)
        ]


def command(
    api: Api,
    method: str,
    path: str,
    body: Any = None,
    *,
    applied: Callable[[], dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """Send a command until it has an answer. After 504 "outcome unknown" (the service died
    with the request in hand; the key keeps that answer) the client looks the result up with
    `applied`, as the problem asks, and only if it is not there sends it again, anew."""
    key = str(uuid.uuid4())
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            answer = api.http.request(method, path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            answer = None
        if answer is not None and "outcome-unknown" in answer.text and applied is not None:
            time.sleep(1.0)  # the service is being restarted
            if (found := applied()) is not None:
                return found
            key = str(uuid.uuid4())
        elif answer is not None and answer.status_code < 500:
            if answer.status_code != 409:
                break
            if "concurrent-update" in answer.text:
                key = str(uuid.uuid4())  # a new attempt; "in progress" keeps the key
            elif "idempotency-key-in-progress" not in answer.text:
                break
        if time.monotonic() > deadline:
            shown = answer.text if answer is not None else "no answer"
            raise AssertionError(f"{method} {path} kept failing: {shown}")
        time.sleep(0.3)
    assert answer.status_code < 400, f"{method} {path}: {answer.status_code} {answer.text}"
    found: dict[str, Any] = answer.json()
    return found


def transition(api: Api, journey: Journey, step: str, body: Any = None) -> None:
    """A command on the order; if its outcome is unknown, the order having moved on from
    where it was tells that it was applied."""
    before = order_of(journey)["status"]
    applied = partial(moved_on, journey, before)
    command(api, "POST", f"/v1/orders/{journey.order_id}/{step}", body, applied=applied)


def moved_on(journey: Journey, status: str) -> dict[str, Any] | None:
    order = order_of(journey)
    return order if order["status"] != status else None


def read(api: Api, path: str) -> dict[str, Any]:
    """A GET that tolerates a service being restarted (the gateway answers 502/503)."""
    for _ in range(200):
        try:
            answer = api.get(path)
        except httpx.TransportError:
            time.sleep(0.3)
            continue
        if answer.status_code < 500:
            found: dict[str, Any] = answer.json()
            return found
        time.sleep(0.3)
    raise AssertionError(f"GET {path} kept failing")


def wait_for(journeys: list[Journey], check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    waiting = list(journeys)
    while waiting and time.monotonic() < deadline:
        waiting = [journey for journey in waiting if not check(journey)]
        if waiting:
            time.sleep(0.3)
    assert not waiting, f"{len(waiting)} orders never {what}: {[j.order_id for j in waiting]}"


def order_of(journey: Journey) -> dict[str, Any]:
    return read(journey.buyer, f"/v1/orders/{journey.order_id}")


def status_in(*statuses: str) -> Any:
    return lambda journey: order_of(journey).get("status") in statuses


def payment_in(state: str) -> Any:
    return lambda journey: (order_of(journey).get("payment") or {}).get("state") == state


def place(journeys: list[Journey]) -> None:
    for journey in journeys:
        seller, buyer = journey.seller, journey.buyer
        listing = command(
            seller,
            "POST",
            "/v1/listings",
            listing_body(),
            applied=partial(first, seller, f"/v1/listings?seller_id={seller.id}"),
        )
        journey.order_id = command(
            buyer,
            "POST",
            "/v1/orders",
            order_body(listing["id"]),
            applied=partial(first, buyer, "/v1/orders?role=buyer"),
        )["id"]


def first(api: Api, path: str) -> dict[str, Any] | None:
    """Each journey's seller has one listing and its buyer one order."""
    items: list[dict[str, Any]] = read(api, path)["items"]
    return items[0] if items else None


def accept_and_ship(journeys: list[Journey]) -> None:
    wait_for(journeys, status_in("awaiting_seller"), "authorized")
    for journey in journeys:
        transition(journey.seller, journey, "accept")
    for journey in journeys:
        journey.tracking_number = f"TRK{uuid.uuid4().hex[:12].upper()}"
        shipment = {"carrier": "DHL", "tracking_number": journey.tracking_number}
        transition(journey.seller, journey, "ship", shipment)


def deliver(crowd: Crowd, journeys: list[Journey]) -> None:
    wait_for(journeys, payment_in("captured"), "captured")
    now = read(crowd.operator, "/v1/ops/clock")["now"]
    for journey in journeys:
        delivered = {
            "tracking_number": journey.tracking_number,
            "status": "delivered",
            "occurred_at": now,
        }
        command(
            crowd.carrier,
            "POST",
            "/v1/carrier-events",
            delivered,
            applied=partial(moved_on, journey, "shipped"),
        )


def finish(crowd: Crowd, journeys: list[Journey]) -> None:
    wait_for(journeys, status_in("delivered"), "delivered")
    for journey in journeys:
        if journey.disputed:
            problem = {"reason": "not_as_described", "details": "Not as described"}
            transition(journey.buyer, journey, "report-problem", problem)
        else:
            transition(journey.buyer, journey, "confirm-receipt")
    disputed = [journey for journey in journeys if journey.disputed]
    wait_for(disputed, lambda journey: bool(dispute_ticket(crowd, journey)), "got a ticket")
    for journey in disputed:
        ticket = dispute_ticket(crowd, journey)
        resolution = {"action": "refund", "note": "Refunded in full"}
        path = f"/v1/tickets/{ticket['id']}"
        command(
            crowd.agent,
            "POST",
            f"{path}/resolve",
            resolution,
            applied=partial(resolved, crowd.agent, path),
        )
    for ending in ("released", "refunded"):
        ended = [journey for journey in journeys if journey.ending == ending]
        wait_for(ended, payment_in(ending), ending)


def resolved(agent: Api, path: str) -> dict[str, Any] | None:
    ticket = read(agent, path)
    return ticket if ticket.get("status") == "resolved" else None


def dispute_ticket(crowd: Crowd, journey: Journey) -> dict[str, Any] | None:
    tickets = read(crowd.agent, f"/v1/orders/{journey.order_id}/tickets")["items"]
    return next((t for t in tickets if t["reason"] == "not_as_described"), None)


def run(crowd: Crowd, journeys: list[Journey]) -> None:
    """Every journey from placing the order to the money released (or refunded)."""
    place(journeys)
    accept_and_ship(journeys)
    deliver(crowd, journeys)
    finish(crowd, journeys)
