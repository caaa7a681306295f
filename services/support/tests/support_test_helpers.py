"""Shared values and builders for the support tests (fixtures are in conftest.py)."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from contracts import Event, Money
from contracts.orders import (
    OrderDeliveryFailed,
    OrderPlaced,
    OrderProblemReported,
    OrderReturnedToSender,
    OrderSellerBackedOut,
    OrderShipmentOverdue,
)
from contracts.payments import (
    PaymentAuthorizationExpiring,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCaptureFailed,
    PaymentDisputeOpened,
    PaymentRefundFailed,
)
from servicekit.domain.calendar import BusinessCalendar
from servicekit.messaging.db import outbox
from servicekit.testing import received
from support.domain.tickets import SYSTEM, Ticket, open_ticket, resolve
from support.handlers.events import event_router

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, during business hours
BUYER = "usr_buyer"
SELLER = "usr_seller"


def new_order_id() -> str:
    return f"ord_{uuid.uuid4().hex[:24]}"


def fact(order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "buyer_id": BUYER,
        "seller_id": SELLER,
        "listing_id": "lst_1",
        "fulfilment": "seller_ships",
        "occurred_at": NOW,
    } | extra


def placed(order_id: str) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        buyer_id=BUYER,
        seller_id=SELLER,
        listing_id="lst_1",
        quantity=1,
        unit_price=Money(amount_minor=5000, currency="EUR"),
        total=Money(amount_minor=5000, currency="EUR"),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
    )


async def deliver(ctx: Any, event: Event, source: str = "orders") -> None:
    """Hand `event` to its handler as the consumer does: in one unit of work."""
    route = event_router(ctx).route(event.type)
    async with ctx.db.unit_of_work() as uow:
        await route.handle([received(event, source=source, time=ctx.clock.now())], uow)
        await uow.commit()


async def published(engine: Any) -> list[tuple[str, dict[str, Any]]]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    return [
        (row.event_type.removeprefix("marketplace.support."), json.loads(row.payload)["data"])
        for row in rows
    ]


# --- builders for the use cases' tests ------------------------------------------------------


EUR = "EUR"


def money(amount_minor):
    return Money(amount_minor=amount_minor, currency=EUR)


def triggers(order_id):
    """For each automatic reason, the event that opens it."""
    return {
        "shipment_overdue": OrderShipmentOverdue(
            **fact(order_id), ship_by=NOW, accepted_at=NOW - timedelta(days=2)
        ),
        "delivery_failed": OrderDeliveryFailed(**fact(order_id), attempts=2),
        "returned_to_sender": OrderReturnedToSender(**fact(order_id), attempts=2),
        "not_received": OrderProblemReported(
            **fact(order_id), reason="not_received", details="nothing came"
        ),
        "damaged": OrderProblemReported(**fact(order_id), reason="damaged", details="cracked"),
        "problem_other": OrderProblemReported(**fact(order_id), reason="other", details="?"),
        "seller_backed_out": OrderSellerBackedOut(**fact(order_id), reason="sold out"),
        "capture_failed": PaymentCaptureFailed(
            order_id=order_id,
            buyer_id=BUYER,
            seller_id=SELLER,
            amount=money(5000),
            reason="the authorization lapsed",
            failed_at=NOW,
        ),
        "authorization_expiring": PaymentAuthorizationExpiring(
            order_id=order_id,
            buyer_id=BUYER,
            seller_id=SELLER,
            amount=money(5000),
            expires_at=NOW + timedelta(hours=20),
            reason="card declined",
        ),
        "chargeback": PaymentDisputeOpened(
            order_id=order_id,
            buyer_id=BUYER,
            seller_id=SELLER,
            dispute_id="dp_1",
            amount=money(5000),
            reason="fraudulent",
            opened_at=NOW,
        ),
        "refund_failed": PaymentRefundFailed(
            order_id=order_id,
            buyer_id=BUYER,
            seller_id=SELLER,
            amount=money(5000),
            reason="Support ticket tkt_decided: damaged",
            failure="Charge ch_1 has already been refunded.",
            ticket_id="tkt_decided",
            failed_at=NOW,
        ),
    }


async def paid(ctx, order_id, *, capture=True):
    """What payments reports of the order's 50 EUR: authorized, and captured."""
    await deliver(
        ctx,
        PaymentAuthorized(
            order_id=order_id,
            payment_intent_id="pi_1",
            amount=money(5000),
            authorized_at=NOW,
            expires_at=NOW + timedelta(days=7),
        ),
        source="payments",
    )
    if capture:
        await deliver(
            ctx,
            PaymentCaptured(
                order_id=order_id, payment_intent_id="pi_1", amount=money(5000), captured_at=NOW
            ),
            source="payments",
        )


async def tickets_of(ctx, order_id):
    async with ctx.db.unit_of_work() as uow:
        return await uow.tickets.of_order(order_id)


# --- builders for the pure rules' tests ------------------------------------------------------


CALENDAR = BusinessCalendar()
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # one business hour before the weekend
TUESDAY_10AM = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # in the middle of a business day
OTHER_BUYER = "usr_someone_else"
AGENT = "usr_agent"
ORDER = {"order_id": "ord_1", "buyer_id": BUYER, "seller_id": SELLER, "currency": "EUR"}


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def eur(amount_minor: int) -> Money:
    return Money(amount_minor=amount_minor, currency="EUR")


def ticket(reason="not_received", *, order=ORDER, now=TUESDAY_10AM, **kwargs) -> Ticket:
    return open_ticket(
        "tkt_1",
        order=order,
        seller_id=SELLER,
        reason=reason,
        opened_by=SYSTEM,
        now=now,
        calendar=CALENDAR,
        **kwargs,
    )


def seller_ticket(reason="seller_review") -> Ticket:
    """A ticket about a seller, with no order behind it."""
    return ticket(reason, order=None)


def resolved(t: Ticket, action="refund", amount=None, note="Refunded in full") -> Ticket:
    return resolve(
        t,
        action=action,
        amount=amount,
        note=note,
        agent_id=AGENT,
        role="agent",
        now=TUESDAY_10AM + timedelta(hours=2),
    )
