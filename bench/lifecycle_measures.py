"""What the lifecycle bench measures once the load is over: each status change's latency to
its effect in another service (published on Kafka or e-mailed), the standing changes by their
cause, when each buyer's e-mail arrived, and whether every order's ledger balances.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from lifecycle_commands import not_as_described
from lifecycle_orders import (
    AUTHORIZED,
    CAPTURED,
    COMMAND_OF,
    COMPLETED,
    PLACED,
    PROBLEM,
    RELEASED,
    SHIPPED,
    STANDING,
    TICKET,
    Bench,
    Journey,
)
from observers import Seen, Tail, mail_times

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
