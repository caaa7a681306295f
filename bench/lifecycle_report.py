"""The lifecycle bench's report: everything a run found (`Results`) printed phase by phase,
with percentiles, CPU shares, consumer rates, costs per 1,000 orders and the orders that did
not reach their end.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from collections import Counter
from dataclasses import dataclass

from lifecycle_measures import Latencies
from lifecycle_orders import Gateway, Journey
from lifecycle_phases import Ceiling, Late, Load, Window
from observers import Seen

from devstack.stack import SERVICES
from servicekit.operations.ops import DeadLetter

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
