"""Support's resolutions move the order (`support.ticket_resolved`): reship, return, cancel,
and the end of a dispute (no_action, a partial refund). One that no longer fits the order's
status is refused by the domain and ignored by the handler. The order's view follows the
ticket to `closed` (`support.ticket_closed`)."""

from datetime import timedelta

import pytest

from contracts import Money
from contracts.support import TicketClosed, TicketOpened, TicketResolved
from orders import domain, handlers
from orders.domain import Actor, Status, TransitionRefused
from orders.domain.state_machine import CANCELLABLE, RESHIPPABLE, RETURNABLE

from orders_service_test_helpers import (
    BUYER,
    data,
    emitting,
    order_through,
    received,
    ship_order,
    stored_listing,
    stored_order,
)
from orders_test_helpers import CALENDAR, LATER, RULES, order_in

P = "marketplace.order."
AT = LATER + timedelta(days=1)  # Saturday 28 Nov


# --- the domain ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", RESHIPPABLE)
def test_a_reship_sends_the_order_back_to_the_seller_with_a_new_ship_by(status):
    order = order_in(status)

    outcome = domain.reship(order, "tkt_1", AT, CALENDAR)

    reshipped = outcome.order
    assert reshipped.status is Status.ACCEPTED
    assert reshipped.ship_by == CALENDAR.add_business_days(AT, order.handling_days)
    assert not reshipped.shipment_overdue and reshipped.auto_complete_at is None
    (event,) = outcome.events
    assert (event.type, event.ticket_id, event.ship_by) == (
        P + "reship_requested.v1",
        "tkt_1",
        reshipped.ship_by,
    )
    assert "ship" in reshipped.allowed_actions(Actor.SELLER, AT)


@pytest.mark.parametrize("status", RETURNABLE)
def test_a_return_books_a_pickup_as_the_buyers_own_does(status):
    outcome = domain.start_return(order_in(status), "damaged in transit", AT, CALENDAR, RULES)

    assert outcome.order.status is Status.RETURN_REQUESTED
    pickup = CALENDAR.add_business_days(AT, RULES.pickup_business_days).date()
    assert outcome.order.return_pickup_date == pickup
    (event,) = outcome.events
    assert (event.type, event.pickup_date) == (P + "return_requested.v1", pickup.isoformat())


@pytest.mark.parametrize("status", CANCELLABLE)
def test_a_cancel_ends_the_order_and_gives_stock_back_only_before_shipment(status):
    outcome = domain.cancel_by_support(order_in(status), AT)

    assert (outcome.order.status, outcome.order.cancel_reason) == (
        Status.CANCELLED,
        "cancelled_by_support",
    )
    (event,) = outcome.events
    assert (event.type, event.cancelled_by, event.reason) == (
        P + "cancelled.v1",
        "system",
        "cancelled_by_support",
    )
    assert not event.counts_against_seller()
    assert outcome.stock_back is (
        status in (Status.PLACED, Status.AWAITING_SELLER, Status.ACCEPTED)
    )


@pytest.mark.parametrize("partly", [False, True])
def test_the_end_of_a_dispute_completes_the_order(partly):
    outcome = domain.settle_dispute(order_in(Status.DISPUTED), AT, partly_refunded=partly)

    assert outcome.order.status is Status.COMPLETED
    (event,) = outcome.events
    assert (event.type, event.confirmed_by) == (P + "completed.v1", "system")


@pytest.mark.parametrize(
    ("resolve", "allowed"),
    [
        (lambda o: domain.reship(o, "tkt_1", AT, CALENDAR), RESHIPPABLE),
        (lambda o: domain.start_return(o, "", AT, CALENDAR, RULES), RETURNABLE),
        (lambda o: domain.cancel_by_support(o, AT), CANCELLABLE),
        (lambda o: domain.settle_dispute(o, AT, partly_refunded=False), (Status.DISPUTED,)),
    ],
)
def test_a_resolution_is_refused_in_any_other_status(resolve, allowed):
    for status in Status:
        if status in allowed or status in (Status.REFUNDED, Status.RETURNED):
            continue
        with pytest.raises(TransitionRefused):
            resolve(order_in(status))


def test_a_full_refund_ends_an_order_returned_to_sender():
    order = order_in(Status.RETURNED_TO_SENDER)

    refunded = domain.record_refund(order, order.total, True, AT).order

    assert refunded.status is Status.REFUNDED


# --- the handler ---------------------------------------------------------------------------


def resolution(order, action, amount=None):
    return TicketResolved(
        ticket_id="tkt_1",
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        action=action,
        amount=amount,
        note="decided",
        resolved_by="usr_agent",
        resolved_at=AT,
    )


async def resolve(ctx, order, action, amount=None):
    async with ctx.db.unit_of_work() as uow:
        await handlers.on_ticket_resolved(ctx, received(resolution(order, action, amount)), uow)
        await uow.commit()


async def disputed(ctx):
    _, order = await order_through(ctx, Status.DELIVERED)
    await handlers.report_problem(ctx, order.id, BUYER, "damaged", "cracked")
    return await stored_order(ctx, order.id)


async def test_a_reship_resolution_lets_the_seller_ship_again(ctx, engine):
    order = await disputed(ctx)

    _, rows = await emitting(engine, resolve(ctx, order, "reship"))

    reshipped = await stored_order(ctx, order.id)
    assert reshipped.status is Status.ACCEPTED and reshipped.act_by == reshipped.ship_by
    assert [row.event_type for row in rows] == [P + "reship_requested.v1"]
    await ship_order(ctx, order.id)
    assert (await stored_order(ctx, order.id)).status is Status.SHIPPED


async def test_a_cancel_resolution_cancels_and_a_return_resolution_starts_a_return(ctx, engine):
    listing, accepted = await order_through(ctx, Status.ACCEPTED, stock=1)
    _, rows = await emitting(engine, resolve(ctx, accepted, "cancel"))
    assert (await stored_order(ctx, accepted.id)).status is Status.CANCELLED
    assert [(r.event_type, data(r)["reason"]) for r in rows] == [
        (P + "cancelled.v1", "cancelled_by_support")
    ]
    assert (await stored_listing(ctx, listing.id)).quantity_available == 1

    order = await disputed(ctx)
    _, rows = await emitting(engine, resolve(ctx, order, "return"))
    assert (await stored_order(ctx, order.id)).status is Status.RETURN_REQUESTED
    assert [row.event_type for row in rows] == [P + "return_requested.v1"]


@pytest.mark.parametrize("action", ["no_action", "partial_refund"])
async def test_no_action_or_a_partial_refund_ends_a_dispute(ctx, engine, action):
    order = await disputed(ctx)
    amount = Money(amount_minor=100, currency="EUR") if action == "partial_refund" else None

    _, rows = await emitting(engine, resolve(ctx, order, action, amount))

    assert (await stored_order(ctx, order.id)).status is Status.COMPLETED
    assert [row.event_type for row in rows] == [P + "completed.v1"]


@pytest.mark.parametrize("action", ["no_action", "partial_refund", "reship", "return", "refund"])
async def test_a_resolution_that_no_longer_fits_is_ignored(ctx, engine, action):
    _, order = await order_through(ctx, Status.ACCEPTED)
    amount = Money(amount_minor=100, currency="EUR") if action == "partial_refund" else None

    _, rows = await emitting(engine, resolve(ctx, order, action, amount))

    assert (await stored_order(ctx, order.id)).status is Status.ACCEPTED
    assert rows == []


async def test_the_orders_view_follows_its_ticket_from_open_to_resolved_to_closed(ctx):
    order = await disputed(ctx)
    opened = TicketOpened(
        ticket_id="tkt_1",
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        reason="damaged",
        priority="high",
        title="The item arrived damaged",
        opened_by="system",
        first_response_due=AT + timedelta(hours=4),
        resolution_due=AT + timedelta(hours=16),
        opened_at=AT,
    )
    closed = TicketClosed(
        ticket_id="tkt_1",
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        reason="damaged",
        resolved_at=AT,
        closed_at=AT + timedelta(days=3),
    )
    router = handlers.event_router(ctx)
    shown = []
    for event in (opened, resolution(order, "no_action"), closed):
        async with ctx.db.unit_of_work() as uow:
            await router.route(event.type).handle([received(event)], uow)
            await uow.commit()
        async with ctx.db.unit_of_work() as uow:
            shown += [ticket["status"] for ticket in await uow.order_tickets.of_order(order.id)]

    assert shown == ["open", "resolved", "closed"]
