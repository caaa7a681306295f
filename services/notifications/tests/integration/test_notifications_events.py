"""Events become messages once per event, recipient and message: a payment event that
overtakes its `order.placed` is parked and told when the order arrives; a redelivered event
writes nothing twice; an accepted order notes its ship-by date (the seller's reminder and
later messages use it) and swaps the seller's reminder."""

from datetime import datetime, timedelta

from sqlalchemy import select

from contracts import Money
from contracts.orders import OrderAccepted, OrderPlaced
from contracts.payments import PaymentAuthorized
from notifications.db import notifications, reminders
from notifications.domain import ACCEPT_REMINDER, SHIP_REMINDER
from notifications.handlers import event_router
from servicekit.testing import received

from notifications_test_helpers import NOW, deliver

ORDER = "ord_1"
YEN = Money(amount_minor=5000, currency="JPY")


def placed() -> OrderPlaced:
    return OrderPlaced(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        quantity=1,
        unit_price=YEN,
        total=YEN,
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
        accept_by=NOW + timedelta(days=2),
    )


def authorized() -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=ORDER,
        payment_intent_id="pi_1",
        amount=YEN,
        authorized_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )


def accepted() -> OrderAccepted:
    return OrderAccepted(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        fulfilment="seller_ships",
        occurred_at=NOW,
        ship_by=NOW + timedelta(days=4),
    )


async def messages(ctx) -> list[tuple[str, str, str]]:
    """(recipient, message, text) of everything written, oldest first."""
    async with ctx.db.unit_of_work() as uow:
        rows = (
            await uow.session.execute(select(notifications).order_by(notifications.c.created_at))
        ).all()
    return [(row.recipient_id, row.message, row.text) for row in rows]


async def reminder_kinds(ctx) -> list[str]:
    async with ctx.db.unit_of_work() as uow:
        rows = (await uow.session.execute(select(reminders))).all()
    return sorted(f"{row.kind}:{row.state}" for row in rows)


async def test_a_payment_before_its_order_is_told_when_the_order_arrives(ctx):
    await deliver(ctx, authorized(), source="payments")
    assert await messages(ctx) == []

    await deliver(ctx, placed())

    told = await messages(ctx)
    assert sorted((person, message) for person, message, _ in told) == [
        ("usr_buyer", "order_confirmed.buyer"),
        ("usr_seller", "new_order.seller"),
    ]
    assert all("5,000 JPY" in text for _, _, text in told)


async def test_a_redelivered_event_writes_nothing_twice(ctx):
    await deliver(ctx, placed())
    payment = received(authorized(), source="payments", time=NOW)
    route = event_router(ctx).route(PaymentAuthorized.type)
    for _ in range(2):
        async with ctx.db.unit_of_work() as uow:
            await route.handle([payment], uow)
            await uow.commit()

    assert len(await messages(ctx)) == 2


async def test_an_accepted_order_notes_its_ship_by_and_swaps_the_sellers_reminder(ctx):
    await deliver(ctx, placed())
    await deliver(ctx, authorized(), source="payments")
    await deliver(ctx, accepted())

    async with ctx.db.unit_of_work() as uow:
        order = await uow.directory.order(ORDER)
    assert order is not None
    assert datetime.fromisoformat(order.facts["ship_by"]) == NOW + timedelta(days=4)
    assert order.facts["total"] == {"amount_minor": 5000, "currency": "JPY"}
    kinds = await reminder_kinds(ctx)
    assert kinds == [f"{ACCEPT_REMINDER}:cancelled", f"{SHIP_REMINDER}:scheduled"]
