"""The lifecycle bench's commands: each step of an order as its client sends it through the
gateway, and driving one order through its steps, open loop (at fixed times) or closed loop
(each as soon as the previous one was answered).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from lifecycle_orders import AUTHORIZED, ENDS, STEPS, TICKET, WAIT_SECONDS, Bench, Journey
from observers import Seen

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
