"""Reconciliation: compare every payment's ledger with what Stripe says happened.

    uv run python -m payments.reconcile     # prints differences; exit status 1 if any

The ledger is what we believe: the card part captured is what left `buyer_card` and is no
longer merely held, and card refunds confirmed are in `refunds`. Stripe's charge says what
was captured and refunded. Anything decided but not confirmed (a refund still pending, a hold
on a voided order) is reported too.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from contracts.money import format_money
from payments import ledger
from payments.cards import CardProcessor, ChargeState, StripeCards
from payments.db import PaymentsUnit
from payments.settings import PaymentsSettings
from servicekit.domain.clock import SystemClock
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database


@dataclass(frozen=True)
class Difference:
    order_id: str
    what: str


def compare(
    order_id: str, currency: str, balances: dict[str, int], charge: ChargeState
) -> list[Difference]:
    """What differs between an order's ledger balances and its Stripe charge, amounts written
    for the operators who read them. Pure."""

    def shown(amount_minor: int) -> str:
        return format_money(amount_minor, currency)

    held = balances.get(ledger.AUTHORIZATION_HOLD, 0)
    captured = -balances.get(ledger.BUYER_CARD, 0) - held
    refunded = balances.get(ledger.REFUNDS, 0)
    found = []
    if captured != charge.amount_captured_minor:
        found.append(
            f"captured: ledger {shown(captured)}, Stripe {shown(charge.amount_captured_minor)} "
            f"({charge.payment_intent_id})"
        )
    if refunded != charge.amount_refunded_minor:
        found.append(
            f"refunded: ledger {shown(refunded)}, Stripe {shown(charge.amount_refunded_minor)}"
        )
    if held and charge.status != "requires_capture":
        found.append(f"ledger holds {shown(held)} but the PaymentIntent is {charge.status}")
    pending = balances.get(ledger.REFUNDS_PENDING, 0)
    if pending:
        found.append(f"{shown(pending)} decided as refund but not confirmed by Stripe")
    return [Difference(order_id, what) for what in found]


async def reconcile(db: Database[PaymentsUnit], cards: CardProcessor) -> list[Difference]:
    async with db.unit_of_work() as uow:
        payments = await uow.payments.with_payment_intents()
        lines = {p.order_id: await uow.ledger.order_lines(p.order_id) for p in payments}
        unbalanced = await uow.ledger.unbalanced_orders()
    differences = [
        Difference(
            order_id, f"lines in {currency} sum to {format_money(total, currency)}, not zero"
        )
        for order_id, currency, total in unbalanced
    ]
    for payment in payments:
        if not payment.payment_intent_id:
            continue
        charge = await cards.charge_state(payment.payment_intent_id)
        balances = ledger.balances(lines[payment.order_id])
        differences += compare(payment.order_id, payment.currency, balances, charge)
    return differences


async def main() -> int:
    settings = PaymentsSettings()
    engine = make_engine(settings.database_url)
    try:
        differences = await reconcile(
            Database(engine, source="payments", clock=SystemClock(), unit=PaymentsUnit),
            StripeCards(settings.stripe_api_key, settings.stripe_api_base),
        )
    finally:
        await engine.dispose()
    for difference in differences:
        print(f"{difference.order_id}: {difference.what}")
    print(f"{len(differences)} difference(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
