"""Resolutions that move the order: support refuses beforehand what orders could not do in
the order's status (409 with what is possible), shows agents what is possible now, counts a
cancellation's money, and closes resolved tickets left quiet."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from contracts.orders import (
    OrderAccepted,
    OrderProblemReported,
    OrderReshipRequested,
    OrderShipped,
)
from contracts.payments import PaymentRefunded
from support.db import tickets
from support.domain.errors import NotYetKnown, ResolutionImpossible
from support.domain.possible import check_order, possible_resolutions
from support.domain.tickets import Status
from support.handlers import commands
from support.handlers.clocks import close_quiet

from support_money_test_helpers import PAID, authorized, knowing
from support_money_test_helpers import placed as placed_total
from support_test_helpers import (
    AGENT,
    BUYER,
    NOW,
    deliver,
    fact,
    money,
    new_order_id,
    paid,
    placed,
    published,
    tickets_of,
    triggers,
)

# --- the rules -----------------------------------------------------------------------------

CAPTURED = knowing(*PAID)
HELD = knowing(placed_total(), authorized())


@pytest.mark.parametrize(
    ("status", "possible"),
    [
        ("accepted", {"cancel"}),
        ("disputed", {"reship", "return", "cancel"}),
        ("returned_to_sender", {"reship", "cancel"}),
        ("delivery_failed", {"reship", "cancel"}),
        ("delivered", {"return"}),
        ("completed", {"return"}),
        ("shipped", set()),
        ("cancelled", set()),
        ("refunded", set()),
    ],
)
def test_what_moves_the_order_is_possible_by_its_status(status, possible):
    money = HELD if status == "accepted" else CAPTURED
    allowed = set(possible_resolutions(status=status, fulfilment="seller_ships", money=money))

    assert allowed & {"reship", "return", "cancel"} == possible
    assert {"no_action", "rebook"} <= allowed
    for action in {"reship", "return", "cancel"} - possible:
        with pytest.raises(ResolutionImpossible) as refused:
            check_order(action, status=status, fulfilment="seller_ships", money=money)
        assert refused.value.extra["order_status"] == status


def test_money_resolutions_are_possible_by_the_money():
    assert {"refund", "partial_refund", "credit"} <= set(
        possible_resolutions(status="disputed", fulfilment="seller_ships", money=CAPTURED)
    )
    before_capture = possible_resolutions(status="accepted", fulfilment="seller_ships", money=HELD)
    assert "refund" in before_capture and "partial_refund" not in before_capture


def test_a_transfer_cannot_be_returned_and_an_unknown_status_is_not_yet_known():
    with pytest.raises(ResolutionImpossible):
        check_order("return", status="delivered", fulfilment="transfer", money=CAPTURED)
    with pytest.raises(NotYetKnown):
        check_order("reship", status=None, fulfilment=None, money=None)
    assert possible_resolutions(status=None, fulfilment=None, money=None) == [
        "rebook",
        "no_action",
    ]


# --- the use cases -------------------------------------------------------------------------


async def resolve(ctx, ticket_id, action, amount=None):
    return await commands.resolve(
        ctx,
        ticket_id,
        principal_id=AGENT,
        role="agent",
        action=action,
        amount=amount,
        note="decided",
    )


async def disputed_ticket(ctx):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await paid(ctx, order_id)
    await deliver(ctx, OrderShipped(**fact(order_id), total=money(5000)))
    await deliver(ctx, OrderProblemReported(**fact(order_id), reason="damaged", details="x"))
    (ticket,) = await tickets_of(ctx, order_id)
    return order_id, ticket


async def test_support_follows_the_orders_status_and_refuses_what_it_does_not_allow(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await paid(ctx, order_id, capture=False)
    await deliver(ctx, OrderAccepted(**fact(order_id), ship_by=NOW + timedelta(days=2)))
    await deliver(ctx, triggers(order_id)["shipment_overdue"])
    (ticket,) = await tickets_of(ctx, order_id)

    async with ctx.db.unit_of_work() as uow:
        assert await commands.possible_now(ctx, uow, ticket) == [
            "refund",
            "credit",
            "cancel",
            "no_action",
        ]  # no rebook: only a seller backing out of an event's ticket is rebooked (#20)
    with pytest.raises(ResolutionImpossible) as refused:
        await resolve(ctx, ticket.id, "reship")
    assert refused.value.extra["order_status"] == "accepted"
    assert "cancel" in refused.value.extra["possible_resolutions"]
    assert [t.status for t in await tickets_of(ctx, order_id)] == [Status.OPEN]

    cancelled = await resolve(ctx, ticket.id, "cancel")

    assert cancelled.status is Status.RESOLVED
    (resolved,) = [data for kind, data in await published(engine) if kind == "ticket_resolved.v1"]
    assert resolved["action"] == "cancel"
    async with ctx.db.unit_of_work() as uow:
        assert (await uow.order_moneys.get(order_id)).refundable_minor == 0  # all goes back


async def test_a_reship_and_a_full_refund_are_followed(ctx):
    order_id, ticket = await disputed_ticket(ctx)
    await resolve(ctx, ticket.id, "reship")
    reship = OrderReshipRequested(
        **fact(order_id), ticket_id=ticket.id, ship_by=NOW + timedelta(days=2)
    )

    await deliver(ctx, reship)

    async with ctx.db.unit_of_work() as uow:
        assert (await uow.orders.get(order_id))["status"] == "accepted"
    await deliver(ctx, OrderProblemReported(**fact(order_id), reason="damaged", details="x"))
    refunded = PaymentRefunded(
        order_id=order_id,
        amount=money(5000),
        total_refunded=money(5000),
        full=True,
        refunded_at=NOW,
        reason="x",
    )
    await deliver(ctx, refunded, source="payments")
    async with ctx.db.unit_of_work() as uow:
        assert (await uow.orders.get(order_id))["status"] == "refunded"


async def test_a_resolved_ticket_closes_when_quiet_and_a_partys_message_reopens_it(
    ctx, clock, engine
):
    first_order, first = await disputed_ticket(ctx)
    _, second = await disputed_ticket(ctx)
    await resolve(ctx, first.id, "no_action")
    resolved_at = clock.now()
    await resolve(ctx, second.id, "no_action")
    clock.advance(timedelta(days=2).total_seconds())
    await commands.post_message(
        ctx, second.id, principal_id=BUYER, role="buyer", body="still broken", internal=False
    )
    clock.advance(timedelta(days=1).total_seconds())
    before = len(await published(engine))

    assert await close_quiet(ctx, clock.now()) == 1

    async with ctx.db.unit_of_work() as uow:
        assert (await uow.tickets.get(first.id)).status is Status.CLOSED
        assert (await uow.tickets.get(second.id)).status is Status.OPEN
    # orders hears of it, so the order's view shows the ticket closed
    [(kind, closed)] = (await published(engine))[before:]
    assert kind == "ticket_closed.v1"
    assert (closed["ticket_id"], closed["order_id"]) == (first.id, first_order)
    assert datetime.fromisoformat(closed["resolved_at"]) == resolved_at
    assert datetime.fromisoformat(closed["closed_at"]) == clock.now()


async def test_a_ticket_resolved_before_its_resolution_time_was_kept_closes_too(ctx, clock, engine):
    _, ticket = await disputed_ticket(ctx)
    await resolve(ctx, ticket.id, "no_action")
    async with engine.begin() as connection:  # resolved before migration 0003 added the column
        await connection.execute(
            update(tickets).where(tickets.c.id == ticket.id).values(resolved_at=None)
        )
    clock.advance(timedelta(days=3).total_seconds())

    assert await close_quiet(ctx, clock.now()) == 1

    async with ctx.db.unit_of_work() as uow:
        assert (await uow.tickets.get(ticket.id)).status is Status.CLOSED
    assert (await published(engine))[-1][0] == "ticket_closed.v1"
