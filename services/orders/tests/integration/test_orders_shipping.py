"""Shipping an order and what carriers report about its parcel, on SQLite and PostgreSQL:
each report changes the order and emits what follows; one that does not fit changes nothing."""

from datetime import date, timedelta

import pytest

from contracts import Money
from orders import handlers
from orders.domain import (
    DomainError,
    Fulfilment,
    NotFound,
    Status,
    TransitionRefused,
)

from orders_service_test_helpers import (
    BUYER,
    SELLER,
    THREE_PL,
    assert_unchanged,
    data,
    emitting,
    event_types,
    order_through,
    report,
    ship_order,
    stored_order,
    tracking_of,
    when,
)
from orders_service_test_helpers import ORDER_EVENT as P
from orders_test_helpers import NOW

# --- shipping -----------------------------------------------------------------------------


async def test_shipping_captures_the_total_with_the_tracking_number(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED, quantity=2)
    saved, rows = await emitting(engine, ship_order(ctx, order.id))
    assert saved.status is Status.SHIPPED
    assert [row.event_type for row in rows] == [P + "shipped.v1"]
    event = data(rows[0])
    assert event["total"] == Money(amount_minor=25000, currency="EUR").model_dump()
    assert (event["carrier"], event["tracking_number"]) == ("DHL", tracking_of(order.id))
    assert (event["transfer_reference"], event["replacement"]) == (None, False)


async def test_a_ticket_is_shipped_with_its_transfer_reference(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED, Fulfilment.TRANSFER)
    saved, rows = await emitting(engine, ship_order(ctx, order.id))
    assert saved.status is Status.SHIPPED
    event = data(rows[0])
    assert (event["transfer_reference"], event["tracking_number"]) == ("TIX-42", None)
    assert event["fulfilment"] == "transfer"


async def test_shipping_without_a_tracking_number_is_refused(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.ship(
            ctx, order.id, SELLER, carrier="DHL", tracking_number=None, transfer_reference=None
        )
    assert refused.value.code == "tracking-required"
    await assert_unchanged(ctx, engine, order, before)


async def test_a_3pl_ships_a_warehouse_order(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED, Fulfilment.WAREHOUSE)
    saved, rows = await emitting(engine, ship_order(ctx, order.id, THREE_PL))
    assert saved.status is Status.SHIPPED
    assert [row.event_type for row in rows] == [P + "shipped.v1"]
    # Once shipped, the 3PL has nothing more to do with the order.
    with pytest.raises(NotFound):
        await ship_order(ctx, order.id, THREE_PL)


async def test_a_3pl_does_not_see_an_order_the_seller_ships(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)
    before = await event_types(engine)
    with pytest.raises(NotFound):
        await ship_order(ctx, order.id, THREE_PL)
    await assert_unchanged(ctx, engine, order, before)


async def test_an_exchange_ships_a_replacement(ctx, engine):
    _, order = await order_through(ctx, Status.DELIVERED)
    _, requested = await emitting(
        engine, handlers.request_exchange(ctx, order.id, BUYER, "wrong size", "size 42")
    )
    assert [row.event_type for row in requested] == [P + "exchange_requested.v1"]
    assert (data(requested[0])["reason"], data(requested[0])["note"]) == ("wrong size", "size 42")

    saved, rows = await emitting(
        engine,
        handlers.ship(
            ctx, order.id, SELLER, carrier="UPS", tracking_number="TRK-NEW", transfer_reference=None
        ),
    )
    assert (saved.status, saved.tracking_number) == (Status.SHIPPED, "TRK-NEW")
    assert [row.event_type for row in rows] == [P + "shipped.v1"]
    assert data(rows[0])["replacement"] is True


# --- the carrier ------------------------------------------------------------------------------


async def test_carrier_progress_finds_the_order_by_its_tracking_number(ctx, engine):
    _, first = await order_through(ctx, Status.SHIPPED)
    _, second = await order_through(ctx, Status.SHIPPED)
    before = await event_types(engine)

    for status in ("in_transit", "out_for_delivery"):
        saved = await handlers.carrier_event(
            ctx, tracking_of(second.id), status, NOW, carrier="DHL"
        )
        assert (saved.id, saved.status) == (second.id, Status.SHIPPED)

    assert await event_types(engine) == before  # progress is for the timeline only
    kinds = [entry.kind for entry in (await stored_order(ctx, second.id)).timeline]
    assert kinds[-2:] == ["in_transit", "out_for_delivery"]
    untouched = await stored_order(ctx, first.id)
    assert (untouched.version, untouched.timeline) == (first.version, first.timeline)


async def test_failed_attempts_are_counted_and_a_redelivery_asked_for(ctx, engine, clock):
    _, order = await order_through(ctx, Status.SHIPPED)

    saved, rows = await emitting(engine, report(ctx, order.id, "delivery_failed"))
    assert (saved.status, saved.delivery_attempts) == (Status.DELIVERY_FAILED, 1)
    assert [row.event_type for row in rows] == [P + "delivery_failed.v1"]
    assert (data(rows[0])["attempts"], data(rows[0])["tracking_number"]) == (
        1,
        tracking_of(order.id),
    )

    saved, rows = await emitting(
        engine, handlers.redeliver(ctx, order.id, BUYER, date(2026, 11, 25))
    )
    assert (saved.status, saved.redelivery_date) == (Status.SHIPPED, date(2026, 11, 25))
    assert [row.event_type for row in rows] == [P + "redelivery_requested.v1"]
    assert (data(rows[0])["preferred_date"], data(rows[0])["attempts"]) == ("2026-11-25", 1)

    clock.advance(2 * 86400)  # the second attempt, on the buyer's date
    saved, rows = await emitting(engine, report(ctx, order.id, "delivery_failed"))
    assert saved.delivery_attempts == 2
    assert data(rows[0])["attempts"] == 2


async def test_a_redelivery_for_today_is_refused(ctx, engine):
    _, order = await order_through(ctx, Status.DELIVERY_FAILED)
    with pytest.raises(DomainError) as refused:
        await handlers.redeliver(ctx, order.id, BUYER, NOW.date())
    assert refused.value.code == "date-in-past"


async def test_delivery_opens_the_confirmation_and_return_windows(ctx, engine, clock):
    _, order = await order_through(ctx, Status.SHIPPED)
    clock.advance(3600)
    delivered_at = NOW + timedelta(minutes=30)  # reported half an hour late

    saved, rows = await emitting(
        engine,
        handlers.carrier_event(
            ctx, tracking_of(order.id), "delivered", delivered_at, carrier="DHL"
        ),
    )

    assert (saved.status, saved.delivered_at) == (Status.DELIVERED, delivered_at)
    assert [row.event_type for row in rows] == [P + "delivered.v1"]
    event = data(rows[0])
    assert when(event["auto_complete_at"]) == delivered_at + timedelta(days=3)
    assert when(event["return_until"]) == delivered_at + timedelta(days=14)
    assert when(event["occurred_at"]) == delivered_at
    stored = await stored_order(ctx, order.id)
    assert stored.auto_complete_at == delivered_at + timedelta(days=3)
    assert stored.timeline[-1].at == delivered_at


async def test_a_parcel_returned_to_sender_is_announced(ctx, engine):
    _, order = await order_through(ctx, Status.DELIVERY_FAILED)
    saved, rows = await emitting(engine, report(ctx, order.id, "returned_to_sender"))
    assert saved.status is Status.RETURNED_TO_SENDER
    assert [row.event_type for row in rows] == [P + "returned_to_sender.v1"]
    assert data(rows[0])["attempts"] == 1


async def test_a_carrier_event_from_the_future_is_refused(ctx, engine):
    _, order = await order_through(ctx, Status.SHIPPED)
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.carrier_event(
            ctx, tracking_of(order.id), "delivered", NOW + timedelta(seconds=1), carrier="DHL"
        )
    assert refused.value.code == "occurred-in-future"
    await assert_unchanged(ctx, engine, order, before)


async def test_an_unknown_tracking_number_is_not_found(ctx, engine):
    await order_through(ctx, Status.SHIPPED)
    before = await event_types(engine)
    with pytest.raises(NotFound) as missing:
        await handlers.carrier_event(ctx, "TRK-NOBODY", "delivered", NOW, carrier="DHL")
    assert missing.value.code == "shipment-not-found"
    assert await event_types(engine) == before


async def test_a_carrier_event_that_does_not_fit_is_refused(ctx, engine, clock):
    _, order = await order_through(ctx, Status.DELIVERED)
    before = await event_types(engine)
    clock.advance(60)  # another scan, not the same report again (that one counts once)
    with pytest.raises(TransitionRefused):
        await report(ctx, order.id, "delivered")
    await assert_unchanged(ctx, engine, order, before)
