"""The whole lifecycle under load, on the real broker and PostgreSQL (a first harness for
issue #10; see "What it does not measure yet" in the README's Benchmarks section).

Starts the platform (the embedded broker, localstripe, an SMTP catcher, every service on
PostgreSQL when one answers, else SQLite, on the manual clock) and drives N orders through
the gateway: place, authorize, accept, ship, capture, deliver, confirm, release. A share
ships late (the clock passes ship-by: support opens a ticket, then the seller ships) and a
share is disputed after delivery (the buyer reports "not as described"; an agent refunds).
Beside it, on the same broker, the raw aiokafka passthrough for scale.

It prints: completed orders/s; events/s published across the services; the ratio of that to
the raw passthrough; the latency from a status change to its effect in another service
(shipped -> captured, placed -> authorized, problem reported -> ticket, overdue -> ticket,
completed -> released), from the Kafka record timestamps, as p50/p95/p99; CPU seconds per
1,000 orders and the peak memory of each service; and whether every order's ledger balances.

    uv run python bench/lifecycle.py [--orders 300] [--concurrency 24]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack import components
from devstack.processes import free_port
from devstack.pytest_plugin import (
    _postgres_server_url,
    drop_postgres_database,
    fresh_postgres_database,
)
from devstack.stack import SERVICES, Stack, StackConfig
from servicekit import ops

sys.path.insert(0, str(Path(__file__).parent))
from hop import raw_passthrough

EFFECTS = {  # (cause type, effect type): what the latency means
    ("marketplace.order.placed.v1", "marketplace.payment.authorized.v1"): "placed -> authorized",
    ("marketplace.order.shipped.v1", "marketplace.payment.captured.v1"): "shipped -> captured",
    (
        "marketplace.order.shipment_overdue.v1",
        "marketplace.support.ticket_opened.v1",
    ): "overdue -> ticket",
    (
        "marketplace.order.problem_reported.v1",
        "marketplace.support.ticket_opened.v1",
    ): "problem -> ticket",
    ("marketplace.order.completed.v1", "marketplace.payment.released.v1"): "completed -> released",
}


@dataclass
class People:
    operator: httpx.AsyncClient
    sellers: list[httpx.AsyncClient]
    buyers: list[httpx.AsyncClient]
    carrier: httpx.AsyncClient
    agent: httpx.AsyncClient


def client(base: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


async def send(api: httpx.AsyncClient, method: str, path: str, **options: Any) -> dict[str, Any]:
    """One call as a careful client makes it: with an Idempotency-Key, so that a connection
    lost before the answer can be sent again safely, and a 409 "changed meanwhile" (an event
    was being applied to the same order) tried again, as the problem's detail asks."""
    headers = {"Idempotency-Key": str(uuid.uuid4())} | options.pop("headers", {})
    for attempt in range(20):
        try:
            response = await api.request(method, path, headers=headers, **options)
        except httpx.TransportError:
            RETRIES["connection lost"] += 1
            await asyncio.sleep(0.1)
            continue
        if response.status_code != 409 or "concurrent-update" not in response.text:
            break
        RETRIES["changed meanwhile (409)"] += 1
        headers["Idempotency-Key"] = str(uuid.uuid4())  # a new attempt, not a repeat
        await asyncio.sleep(min(1.0, 0.05 * 2**attempt))
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


RETRIES: dict[str, int] = defaultdict(int)  # what the clients had to try again, by cause
WAIT_SECONDS = float(os.environ.get("LIFECYCLE_WAIT_SECONDS", "300"))


async def until(check: Any, what: str = "", interval: float = 0.05) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(interval)
    raise TimeoutError(f"not within {WAIT_SECONDS:.0f} s: {what}")


async def people(base: str, operator_token: str, sellers: int, buyers: int) -> People:
    operator = client(base, operator_token)

    async def make(role: str) -> httpx.AsyncClient:
        made = await send(
            operator,
            "POST",
            "/v1/principals",
            json={"role": role, "name": role, "email": f"{uuid.uuid4().hex[:8]}@example.com"},
        )
        return client(base, made["token"])

    return People(
        operator,
        [await make("seller") for _ in range(sellers)],
        [await make("buyer") for _ in range(buyers)],
        await make("carrier"),
        await make("agent"),
    )


async def status_is(api: httpx.AsyncClient, order_id: str, *statuses: str) -> Any:
    async def check() -> Any:
        order = (await api.get(f"/v1/orders/{order_id}")).json()
        return order if order.get("status") in statuses else None

    return await until(check, f"{order_id} {' or '.join(statuses)}")


async def place_and_accept(crowd: People, index: int) -> tuple[str, int, str]:
    seller = crowd.sellers[index % len(crowd.sellers)]
    buyer_index = index % len(crowd.buyers)
    buyer = crowd.buyers[buyer_index]
    listing = await send(
        seller,
        "POST",
        "/v1/listings",
        json={
            "title": f"Item {index}",
            "price": {"amount_minor": 5000 + index, "currency": "EUR"},
            "quantity_available": 1,
            "fulfilment": "seller_ships",
            "handling_days": 2,
        },
    )
    order = await send(
        buyer,
        "POST",
        "/v1/orders",
        json={
            "listing_id": listing["id"],
            "quantity": 1,
            "payment_method": "pm_card_visa",
            "shipping_address": {
                "name": "Bea",
                "line1": "1 Main St",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            },
        },
    )
    await status_is(buyer, order["id"], "awaiting_seller")
    await send(seller, "POST", f"/v1/orders/{order['id']}/accept")
    return order["id"], buyer_index, f"TRK{uuid.uuid4().hex[:12].upper()}"


async def ship_and_deliver(crowd: People, order_id: str, index: int, number: str) -> None:
    seller = crowd.sellers[index % len(crowd.sellers)]
    await send(
        seller,
        "POST",
        f"/v1/orders/{order_id}/ship",
        json={"carrier": "DHL", "tracking_number": number},
    )
    now = (await send(crowd.operator, "GET", "/v1/ops/clock"))["now"]
    await send(
        crowd.carrier,
        "POST",
        "/v1/carrier-events",
        json={"tracking_number": number, "status": "delivered", "occurred_at": now},
    )


async def finish(crowd: People, order_id: str, buyer_index: int, disputed: bool) -> None:
    buyer = crowd.buyers[buyer_index]
    await status_is(buyer, order_id, "delivered")
    if not disputed:
        await send(buyer, "POST", f"/v1/orders/{order_id}/confirm-receipt")
        await until(lambda: payment_state(buyer, order_id, "released"), f"{order_id} released")
        return
    await send(
        buyer,
        "POST",
        f"/v1/orders/{order_id}/report-problem",
        json={"reason": "not_as_described", "details": "Not as described"},
    )

    async def ticket() -> Any:
        found = (await crowd.agent.get(f"/v1/orders/{order_id}/tickets")).json()["items"]
        return next((t for t in found if t["reason"] == "not_as_described"), None)

    opened = await until(ticket, f"a ticket on {order_id}")
    await send(
        crowd.agent,
        "POST",
        f"/v1/tickets/{opened['id']}/resolve",
        json={"action": "refund", "note": "Refunded"},
    )
    await until(lambda: payment_state(buyer, order_id, "refunded"), f"{order_id} refunded")


async def payment_state(api: httpx.AsyncClient, order_id: str, state: str) -> bool:
    order = (await api.get(f"/v1/orders/{order_id}")).json()
    return bool((order.get("payment") or {}).get("state") == state)


async def published_events(stack: Stack) -> float:
    total = 0.0
    async with httpx.AsyncClient(timeout=30) as http:
        for url in stack.service_urls.values():
            for line in (await http.get(f"{url}/metrics")).text.splitlines():
                if line.startswith("marketplace_outbox_published_total{"):
                    total += float(line.rsplit(" ", 1)[1])
    return total


async def latencies(bootstrap: str, order_ids: set[str]) -> dict[str, list[float]]:
    """Milliseconds from each cause's record to its effect's, per order, from the brokers'
    record timestamps (set when the relay published each event)."""
    seen: dict[str, dict[str, int]] = defaultdict(dict)
    for topic in ("orders.events", "payments.events", "support.events"):
        async for record in ops.read(bootstrap, topic, idle_ms=500):
            shown = ops.describe(record)
            if shown["key"] in order_ids and shown.get("type"):
                seen[shown["key"]].setdefault(shown["type"], record.timestamp)
    found: dict[str, list[float]] = defaultdict(list)
    for events in seen.values():
        for (cause, effect), name in EFFECTS.items():
            if cause in events and effect in events:
                found[name].append(max(0, events[effect] - events[cause]))
    return found


def usage(stack: Stack) -> dict[str, tuple[float, int]]:
    """CPU seconds and peak resident memory (kB) of each service process so far."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for child in stack.children:
        if child.process is None or child.name in ("broker", "stripe", "smtp"):
            continue
        pid = child.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick
        status = Path(f"/proc/{pid}/status").read_text()
        peak = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
        )
        found[child.name] = (cpu, peak)
    return found


def ledger_balances(stack: Stack, order_ids: list[str], operator_token: str) -> bool:
    gateway = f"http://127.0.0.1:{stack.config.gateway_port}"
    with httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {operator_token}"}) as h:
        for order_id in order_ids:
            lines = h.get(f"/v1/ledger/orders/{order_id}").json()["lines"]
            totals: dict[str, int] = defaultdict(int)
            for line in lines:
                totals[line["amount"]["currency"]] += line["amount"]["amount_minor"]
            if any(totals.values()):
                return False
    return True


def quantiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"n={len(values)}"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49]:.0f} ms, p95 {cuts[94]:.0f} ms, p99 {cuts[98]:.0f} ms (n={len(values)})"


async def drive(stack: Stack, args: argparse.Namespace, operator_token: str) -> None:
    base = f"http://127.0.0.1:{stack.config.gateway_port}"
    crowd = await people(base, operator_token, sellers=10, buyers=50)
    late_every = max(1, round(1 / args.late_share)) if args.late_share else 0
    dispute_every = max(1, round(1 / args.dispute_share)) if args.dispute_share else 0
    gate = asyncio.Semaphore(args.concurrency)
    cpu_before = usage(stack)
    events_before = await published_events(stack)
    started = time.perf_counter()

    async def accepted(index: int) -> tuple[str, int, str]:
        async with gate:
            return await place_and_accept(crowd, index)

    placed = await asyncio.gather(*(accepted(i) for i in range(args.orders)))
    late = {i for i in range(args.orders) if late_every and i % late_every == 1}

    async def on_time(index: int) -> None:
        order_id, buyer_index, number = placed[index]
        async with gate:
            await ship_and_deliver(crowd, order_id, index, number)
            await finish(
                crowd, order_id, buyer_index, bool(dispute_every) and index % dispute_every == 0
            )

    await asyncio.gather(*(on_time(i) for i in range(args.orders) if i not in late))
    if late:  # ship-by passes for the rest: tickets open, then the sellers ship late
        await send(crowd.operator, "POST", "/v1/ops/clock/advance", json={"seconds": 6 * 86400})
        await asyncio.gather(*(on_time(i) for i in sorted(late)))
    elapsed = time.perf_counter() - started
    events = await published_events(stack) - events_before
    cpu_after = usage(stack)
    order_ids = [order_id for order_id, _, _ in placed]
    measured = await latencies(stack.bootstrap, set(order_ids))
    raw = await raw_passthrough(stack.bootstrap, 20000, uuid.uuid4().hex[:6])

    cpu = sum(cpu_after[n][0] - cpu_before.get(n, (0, 0))[0] for n in cpu_after)
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"orders: {args.orders} ({len(late)} late, disputes every {dispute_every or '-'}), "
        f"concurrency {args.concurrency}, database {args.database}"
    )
    print(f"completed orders/s:        {args.orders / elapsed:,.1f} ({elapsed:.1f} s)")
    print(f"events/s across services:  {events / elapsed:,.0f} ({events:,.0f} events)")
    print(f"raw aiokafka passthrough:  {raw:,.0f} events/s (ratio {events / elapsed / raw:.1%})")
    for name in EFFECTS.values():
        print(f"{name:<26} {quantiles(measured.get(name, []))}")
    print(f"CPU seconds per 1,000 orders (services and gateway): {cpu / args.orders * 1000:,.1f}")
    for name, (_, peak) in sorted(cpu_after.items()):
        print(f"peak memory {name:<18} {peak / 1024:,.0f} MiB")
    print(f"client retries: {dict(RETRIES) or 'none'}")
    print(f"every order's ledger balances: {ledger_balances(stack, order_ids, operator_token)}")
    for api in (crowd.operator, crowd.carrier, crowd.agent, *crowd.sellers, *crowd.buyers):
        await api.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--late-share", type=float, default=0.1)
    parser.add_argument("--dispute-share", type=float, default=0.1)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    args = parser.parse_args()
    server = _postgres_server_url() if args.database != "sqlite" else None
    args.database = "postgresql" if server else "sqlite"
    scratch = Path(tempfile.mkdtemp(prefix="lifecycle-"))
    logs = scratch / "logs"
    logs.mkdir()
    databases = {}
    if server:
        databases = {
            n: fresh_postgres_database(server) for n in (*(s for s, _, _ in SERVICES), "gateway")
        }
    broker, bootstrap = components.broker(log_dir=logs)
    stripe, stripe_base = components.localstripe(log_dir=logs)
    smtp, smtp_port = components.smtp_catcher(maildir=scratch / "mail", log_dir=logs)
    operator_token = "mkt_" + secrets.token_urlsafe(24)
    stack = Stack(
        StackConfig(
            data_dir=scratch,
            gateway_port=free_port(),
            broker_port=0,
            stripe_port=0,
            bootstrap=bootstrap,
            operator_token=operator_token,
            clock="manual",
            keep_data=True,
            service_ports={name: free_port() for name, _, _ in SERVICES},
            database_urls={name: url for name, (url, _) in databases.items()},
            stripe_api_base=stripe_base,
            smtp=(smtp_port, scratch / "mail"),
        )
    )
    started = [broker.start(), stripe.start(), smtp.start()]
    try:
        stack.start()
        asyncio.run(drive(stack, args, operator_token))
    finally:
        stack.stop()
        for child in reversed(started):
            child.stop()
        for _, name in databases.values():
            drop_postgres_database(server, name)


if __name__ == "__main__":
    main()
