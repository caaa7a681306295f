"""The payout run after the bench's orders (#18): every seller the bench made onboards (a
Stripe Express account through the dev stack's Connect server), one run pays each seller what
their released orders left them in one transfer, a second run pays nothing, and afterwards no
seller has money left available. The ledger check that follows (`lifecycle_measures`) then
covers the payouts' entries too."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from lifecycle_orders import Bench

PAID_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class PayoutFigures:
    sellers: int
    payouts: int  # made by the first run
    paid_minor: int  # their total
    run_seconds: float  # the first run's request, booking and transfers
    second_run_payouts: int  # must be 0
    paid_out_minor: int  # what the sellers' balances show paid out afterwards
    available_left_minor: int  # what is still available to them afterwards (must be 0)
    unpaid: int  # payouts not `paid` after the wait


async def payout_phase(bench: Bench) -> PayoutFigures:
    gateway, operator = bench.gateway, bench.crowd.operator
    sellers = await bench.crowd.sellers()
    account = {"country": "DE", "currency": "EUR"}
    await asyncio.gather(
        *(
            gateway.send(s.token, "PUT", "/v1/sellers/me/payout-account", json=account)
            for s in sellers
        )
    )
    started = time.monotonic()
    first = await gateway.send(operator, "POST", "/v1/ops/payouts/run", json={})
    seconds = time.monotonic() - started
    second = await gateway.send(operator, "POST", "/v1/ops/payouts/run", json={})
    unpaid = await _wait_paid(bench, [s.token for s in sellers])
    balances = await asyncio.gather(
        *(gateway.send(s.token, "GET", "/v1/sellers/me/balance") for s in sellers)
    )
    shown = [b for balance in balances for b in balance["balances"]]
    return PayoutFigures(
        sellers=len(sellers),
        payouts=len(first["payouts"]),
        paid_minor=sum(p["amount"]["amount_minor"] for p in first["payouts"]),
        run_seconds=seconds,
        second_run_payouts=len(second["payouts"]),
        paid_out_minor=sum(b["paid_out"]["amount_minor"] for b in shown),
        available_left_minor=sum(b["available"]["amount_minor"] for b in shown),
        unpaid=unpaid,
    )


async def _wait_paid(bench: Bench, tokens: list[str]) -> int:
    """Payouts the run booked but did not finish in its request are made by the worker."""
    deadline = time.monotonic() + PAID_WAIT_SECONDS
    while True:
        listed = await asyncio.gather(
            *(bench.gateway.send(t, "GET", "/v1/sellers/me/payouts") for t in tokens)
        )
        unpaid = sum(1 for page in listed for p in page["items"] if p["status"] != "paid")
        if unpaid == 0 or time.monotonic() > deadline:
            return unpaid
        await asyncio.sleep(1.0)


def print_payouts(figures: PayoutFigures) -> None:
    print("\nPayouts (#18)")
    print(f"  sellers onboarded           {figures.sellers}")
    print(
        f"  first run                   {figures.payouts} payouts, "
        f"{figures.paid_minor / 100:,.2f} EUR, {figures.run_seconds:.2f} s"
    )
    print(f"  second run                  {figures.second_run_payouts} payouts (must be 0)")
    print(f"  paid out (balances)         {figures.paid_out_minor / 100:,.2f} EUR")
    print(
        f"  left available              {figures.available_left_minor / 100:,.2f} EUR (must be 0)"
    )
    print(f"  not paid after {PAID_WAIT_SECONDS:.0f} s         {figures.unpaid}")
