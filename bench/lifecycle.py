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

4. Payouts (#18, `lifecycle_payouts.py`): every seller onboards, one payout run pays each what
   their released orders left them, a second pays nothing, and no money is left available.

Then the raw aiokafka passthrough on the same broker (`hop.py`), every order's ledger (with
the payouts' entries), CPU seconds per 1,000 orders and the peak memory of each service.

    uv run python bench/lifecycle.py [--saturation-seconds 30] [--load-seconds 60] [--rate R]

This script starts the platform and runs the phases; the rest lives beside it:
`lifecycle_orders.py` (the event types, each order's plan and journey, the gateway client
and the people), `lifecycle_commands.py` (each step of an order, and driving one order),
`lifecycle_phases.py` (counters and CPU between two moments; the ceiling, half-load and
late-shipment phases), `lifecycle_measures.py` (latencies, e-mail times, the ledger check)
and `lifecycle_report.py` (the printed report).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from devstack import components
from devstack.processes import Child
from devstack.pytest_plugin import (
    _postgres_server_url,
    drop_postgres_database,
    fresh_postgres_database,
)
from devstack.stack import SERVICES, Stack, StackConfig
from servicekit.operations import ops

sys.path.insert(0, str(Path(__file__).parent))
from hop import raw_passthrough
from lifecycle_measures import (
    effects,
    ledgers_balance,
    mails_by_order,
    order_latencies,
    standing_latencies,
)
from lifecycle_orders import ORDERS_PER_SELLER, Bench, Crowd, Gateway, Journey
from lifecycle_payouts import PayoutFigures, payout_phase, print_payouts
from lifecycle_phases import ceiling, idle, late_shipments, offered_load, settle
from lifecycle_report import SERVICE_NAMES, Results, print_results
from observers import Tail, peak_memory_mib

# --- running it -------------------------------------------------------------------------


async def run_phases(
    bench: Bench, args: argparse.Namespace, stack: Stack
) -> tuple[Results, PayoutFigures]:
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
    payouts = await payout_phase(bench)  # before the ledger check, which then covers them
    unbalanced = await ledgers_balance(bench, [j.order_id for j in journeys if j.order_id])
    services = {name: pid for name, pid in bench.pids.items() if name in SERVICE_NAMES}
    memory = peak_memory_mib(services)
    histories = {
        j.order_id: bench.tail.history(j.order_id)
        for j in journeys
        if j.order_id and (j.error or not j.finished)
    }
    dead_letters = await ops.dead_letters(stack.bootstrap)
    results = Results(
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
    return results, payouts


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
        results, payouts = await run_phases(bench, args, stack)
    finally:
        await tail.stop()
        await gateway.http.aclose()
    print_results(args, results, gateway)
    print_payouts(payouts)


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
