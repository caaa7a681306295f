"""Shared values and builders for the payments tests (fixtures are in conftest.py)."""

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from contracts import Event, Money
from contracts.orders import OrderCompleted, OrderPlaced, OrderShipped
from contracts.support import TicketResolved
from payments import ledger
from payments.domain import (
    CardOutcome,
    Decision,
    Operation,
    Payment,
    PaymentState,
    release,
)
from payments.handlers import event_router
from payments.ledger import Entry
from payments.worker import CardOperationWorker
from servicekit.messaging.db import outbox
from servicekit.messaging.events import Received
from servicekit.testing import received as kit_received

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
UNIT_PRICE = Money(amount_minor=4200, currency="EUR")
HOLD = timedelta(days=7)
FEE_BPS = 500  # 5 %
BUYER = "usr_buyer"
SELLER = "usr_seller"
BUYER_CREDIT = ledger.buyer_credit(BUYER)
SELLER_PAYABLE = ledger.seller_payable(SELLER)
LATER = NOW + timedelta(days=3)
APPROVED = CardOutcome(succeeded=True, payment_intent_id="pi_1")


def new_order_id() -> str:
    # localstripe keeps its PaymentIntents across sessions: every test needs its own ids.
    return f"ord_{uuid.uuid4().hex[:24]}"


def placed(
    order_id: str, *, quantity: int = 2, payment_method: str = "pm_card_visa"
) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        quantity=quantity,
        unit_price=UNIT_PRICE,
        total=UNIT_PRICE * quantity,
        fulfilment="seller_ships",
        payment_method=payment_method,
        placed_at=NOW,
    )


def received(event: Event, *, correlation_id: str = "corr-test") -> Received[Any]:
    """`event` as the consumer hands it to a handler, published by orders."""
    return kit_received(event, source="orders", time=NOW, correlation_id=correlation_id)


async def stored_payment(ctx: Any, order_id: str) -> Any:
    async with ctx.db.unit_of_work() as uow:
        return await uow.payments.get(order_id)


async def outbox_rows(engine: Any) -> list[Any]:
    async with engine.connect() as connection:
        return (await connection.execute(select(outbox).order_by(outbox.c.id))).all()


def data_of(row: Any) -> dict[str, Any]:
    return json.loads(row.payload)["data"]


def fact(order_id: str) -> dict[str, Any]:
    """What every order event after placement carries."""
    return {
        "order_id": order_id,
        "buyer_id": "usr_buyer",
        "seller_id": "usr_seller",
        "listing_id": "lst_1",
        "fulfilment": "seller_ships",
        "occurred_at": NOW,
    }


def resolved(
    order_id: str, action: str, amount: Money | None = None, *, ticket_id: str = "tkt_1"
) -> TicketResolved:
    return TicketResolved(
        ticket_id=ticket_id,
        order_id=order_id,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        action=action,  # type: ignore[arg-type]
        amount=amount,
        note="the parcel arrived damaged",
        resolved_by="usr_agent",
        resolved_at=NOW,
    )


def eur(amount_minor: int) -> Money:
    return Money(amount_minor=amount_minor, currency="EUR")


async def deliver(ctx, event):
    """Hand `event` to its handler as the consumer does: in one unit of work."""
    route = event_router(ctx).route(event.type)
    async with ctx.db.unit_of_work() as uow:
        await route.handle([received(event)], uow)
        await uow.commit()


async def deliver_together(ctx, *events):
    """Hand `events` over as one batch does: each to its handler, all in one unit of work."""
    router = event_router(ctx)
    async with ctx.db.unit_of_work() as uow:
        for event in events:
            await router.route(event.type).handle([received(event)], uow)
        await uow.commit()


async def settle(ctx):
    """Let the worker run every card operation that is waiting."""
    worker = CardOperationWorker(ctx)
    for _ in range(10):
        await worker.run_once()
        async with ctx.db.unit_of_work() as uow:
            if not await uow.operations.open(1):
                return
    raise AssertionError("card operations still open")


async def events_of(engine, order_id):
    return [
        (row.event_type.removeprefix("marketplace.payment."), data_of(row))
        for row in await outbox_rows(engine)
        if row.message_key == order_id
    ]


async def balances(ctx, order_id):
    async with ctx.db.unit_of_work() as uow:
        lines = await uow.ledger.order_lines(order_id)
    assert sum(line.amount_minor for line in lines) == 0, "the order's ledger must balance"
    return ledger.balances(lines)


async def authorized_order(ctx, quantity=2):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id, quantity=quantity))
    await settle(ctx)
    return order_id


async def shipped_order(ctx, quantity=2):
    order_id = await authorized_order(ctx, quantity)
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(4200 * quantity)))
    await settle(ctx)
    return order_id


def completed(order_id):
    return OrderCompleted(**fact(order_id), total=eur(8400), confirmed_by="buyer")


# --- builders for the pure domain tests ------------------------------------------------------

HOLD = timedelta(days=7)
FEE_BPS = 500  # 5 %
BUYER = "usr_buyer"
SELLER = "usr_seller"
BUYER_CREDIT = ledger.buyer_credit(BUYER)
SELLER_PAYABLE = ledger.seller_payable(SELLER)
LATER = NOW + timedelta(days=3)
APPROVED = CardOutcome(succeeded=True, payment_intent_id="pi_1")


def new_payment(total: int = 10_000, **changes) -> Payment:
    """A payment as the order placed it, before `place` decided how it is paid."""
    payment = Payment(
        order_id=new_order_id(),
        buyer_id=BUYER,
        seller_id=SELLER,
        currency="EUR",
        total_minor=total,
        payment_method="pm_card_visa",
        state=PaymentState.AUTHORIZING,
        created_at=NOW,
        correlation_id="corr-test",
    )
    return replace(payment, **changes)


def authorized(total: int = 10_000, credit: int = 0, **changes) -> Payment:
    """Authorized on the card for what the credit does not pay."""
    fields = {
        "credit_applied_minor": credit,
        "state": PaymentState.AUTHORIZED,
        "payment_intent_id": "pi_1",
        "authorized_at": NOW,
        "expires_at": NOW + HOLD,
    }
    return new_payment(total, **(fields | changes))


def captured(total: int = 10_000, credit: int = 0, **changes) -> Payment:
    """Captured into escrow, nothing refunded nor released yet."""
    fields = {"state": PaymentState.CAPTURED, "captured_minor": total}
    return authorized(total, credit, **(fields | changes))


def released_payment(total: int = 10_000, credit: int = 0, fee_bps: int = FEE_BPS) -> Payment:
    return release(captured(total, credit), NOW, fee_bps).payment


def done(operation: Operation, outcome: CardOutcome = APPROVED, at=NOW) -> Operation:
    """`operation` as the worker leaves it once Stripe answered."""
    return operation.started(at).finished(outcome, at)


def moved(entry: Entry | None) -> dict[str, int]:
    """What an entry does to each account, e.g. {"escrow": -100, "platform_fees": 100}."""
    assert entry is not None
    return ledger.balances(list(entry.lines))


def only_entry(decision: Decision) -> Entry:
    assert len(decision.entries) == 1, decision.entries
    return decision.entries[0]


def only_operation(decision: Decision) -> Operation:
    assert len(decision.operations) == 1, decision.operations
    return decision.operations[0]


def active_account(seller_id: str = SELLER, *, activated_at=NOW) -> Any:
    from payments.domain.payouts import AccountStatus, PayoutAccount

    return PayoutAccount(
        seller_id=seller_id,
        account_id=f"acct_{seller_id}",
        country="DE",
        currency="EUR",
        status=AccountStatus.ACTIVE,
        created_at=NOW,
        activated_at=activated_at,
    )
