"""Commands on an order, on SQLite and PostgreSQL: each changes the order, emits exactly the
events that follow to the outbox, and gives the stock back when the order ends unfulfilled.
Only the order's parties see it; a refused command changes nothing."""

from datetime import date, datetime, timedelta

import pytest

from orders import handlers
from orders.domain import (
    DomainError,
    Fulfilment,
    ListingStatus,
    NotFound,
    Status,
    TransitionRefused,
)

from orders_service_test_helpers import (
    AGENT,
    BUYER,
    OPERATOR,
    OTHER_BUYER,
    OTHER_SELLER,
    SELLER,
    assert_unchanged,
    data,
    emitting,
    event_types,
    order_through,
    report,
    stored_listing,
    stored_order,
    when,
)
from orders_service_test_helpers import ORDER_EVENT as P
from orders_test_helpers import NEW_ADDRESS, NOW

# --- the seller answers -----------------------------------------------------------------------


async def test_accepting_tells_when_it_will_ship(ctx, engine):
    _, order = await order_through(ctx, Status.AWAITING_SELLER)
    saved, rows = await emitting(engine, handlers.accept(ctx, order.id, SELLER))
    assert saved.status is Status.ACCEPTED
    assert [row.event_type for row in rows] == [P + "accepted.v1"]
    event = data(rows[0])
    assert when(event["ship_by"]) == saved.ship_by == (await stored_order(ctx, order.id)).ship_by
    assert (event["order_id"], event["buyer_id"], event["seller_id"]) == (
        order.id,
        "usr_buyer",
        "usr_seller",
    )
    assert (event["listing_id"], event["fulfilment"]) == (order.listing_id, "seller_ships")
    assert when(event["occurred_at"]) == NOW


async def test_a_decline_before_acceptance_emits_a_decline_and_gives_the_stock_back(ctx, engine):
    listing, order = await order_through(ctx, Status.AWAITING_SELLER, stock=1)
    assert (await stored_listing(ctx, listing.id)).status is ListingStatus.SOLD_OUT

    saved, rows = await emitting(engine, handlers.decline(ctx, order.id, SELLER, "sold elsewhere"))

    assert (saved.status, saved.cancel_reason) == (Status.DECLINED, "declined")
    assert [row.event_type for row in rows] == [P + "declined.v1"]
    assert data(rows[0])["reason"] == "sold elsewhere"
    restocked = await stored_listing(ctx, listing.id)
    assert (restocked.quantity_available, restocked.status) == (1, ListingStatus.ACTIVE)


@pytest.mark.parametrize(
    ("fulfilment", "event_date"),
    [(Fulfilment.SELLER_SHIPS, None), (Fulfilment.TRANSFER, "2026-12-31")],
)
async def test_a_decline_after_acceptance_is_a_backing_out_and_a_cancellation(
    ctx, engine, fulfilment, event_date
):
    listing, order = await order_through(ctx, Status.ACCEPTED, fulfilment, quantity=2, stock=2)

    saved, rows = await emitting(engine, handlers.decline(ctx, order.id, SELLER, "broke it"))

    assert (saved.status, saved.cancel_reason) == (Status.CANCELLED, "seller_backed_out")
    assert [row.event_type for row in rows] == [P + "seller_backed_out.v1", P + "cancelled.v1"]
    backed_out, cancelled = data(rows[0]), data(rows[1])
    assert (backed_out["reason"], backed_out["event_date"]) == ("broke it", event_date)
    assert (cancelled["reason"], cancelled["cancelled_by"]) == ("seller_backed_out", "seller")
    assert all(row.message_key == order.id for row in rows)
    restocked = await stored_listing(ctx, listing.id)
    assert (restocked.quantity_available, restocked.status) == (2, ListingStatus.ACTIVE)


async def test_a_seller_cannot_decline_what_has_shipped(ctx, engine):
    listing, order = await order_through(ctx, Status.SHIPPED)
    before = await event_types(engine)
    with pytest.raises(TransitionRefused) as refused:
        await handlers.decline(ctx, order.id, SELLER, "too late")
    assert refused.value.allowed == ["message"]
    await assert_unchanged(ctx, engine, order, before)
    assert (await stored_listing(ctx, listing.id)).quantity_available == 2


# --- the buyer cancels ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.PLACED, Status.AWAITING_SELLER, Status.ACCEPTED])
async def test_the_buyer_cancels_before_shipment_and_the_stock_comes_back(ctx, engine, status):
    listing, order = await order_through(ctx, status, stock=1)

    saved, rows = await emitting(engine, handlers.cancel(ctx, order.id, BUYER, "found it cheaper"))

    assert (saved.status, saved.cancel_reason) == (Status.CANCELLED, "buyer_cancelled")
    assert [row.event_type for row in rows] == [P + "cancelled.v1"]
    assert (data(rows[0])["cancelled_by"], data(rows[0])["reason"]) == ("buyer", "found it cheaper")
    restocked = await stored_listing(ctx, listing.id)
    assert (restocked.quantity_available, restocked.status) == (1, ListingStatus.ACTIVE)


async def test_a_seller_cannot_cancel(ctx, engine):
    listing, order = await order_through(ctx, Status.ACCEPTED)
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.cancel(ctx, order.id, SELLER, "changed my mind")
    assert refused.value.code == "forbidden"
    await assert_unchanged(ctx, engine, order, before)
    assert (await stored_listing(ctx, listing.id)).quantity_available == 2


async def test_a_cancelled_order_cannot_be_cancelled_again_nor_restocked_twice(ctx, engine):
    listing, order = await order_through(ctx, Status.AWAITING_SELLER)
    await handlers.cancel(ctx, order.id, BUYER, "first")
    cancelled = await stored_order(ctx, order.id)
    before = await event_types(engine)
    with pytest.raises(TransitionRefused) as refused:
        await handlers.cancel(ctx, order.id, BUYER, "again")
    assert refused.value.allowed == ["message"]
    await assert_unchanged(ctx, engine, cancelled, before)
    assert (await stored_listing(ctx, listing.id)).quantity_available == 3


async def test_the_buyer_cannot_cancel_once_shipped(ctx, engine):
    _, order = await order_through(ctx, Status.SHIPPED)
    before = await event_types(engine)
    with pytest.raises(TransitionRefused) as refused:
        await handlers.cancel(ctx, order.id, BUYER, "too late")
    assert refused.value.allowed == ["message", "report_problem"]
    await assert_unchanged(ctx, engine, order, before)


# --- only the parties see an order ----------------------------------------------------------

BUYER_COMMANDS = {
    "cancel": lambda ctx, order_id, who: handlers.cancel(ctx, order_id, who, "x"),
    "change_address": lambda ctx, order_id, who: handlers.change_address(
        ctx, order_id, who, NEW_ADDRESS
    ),
    "redeliver": lambda ctx, order_id, who: handlers.redeliver(
        ctx, order_id, who, date(2026, 11, 30)
    ),
    "confirm_receipt": lambda ctx, order_id, who: handlers.confirm_receipt(ctx, order_id, who),
    "report_problem": lambda ctx, order_id, who: handlers.report_problem(
        ctx, order_id, who, "damaged", "x"
    ),
    "return": lambda ctx, order_id, who: handlers.request_return(ctx, order_id, who, "x"),
    "exchange": lambda ctx, order_id, who: handlers.request_exchange(ctx, order_id, who, "x", ""),
    "review": lambda ctx, order_id, who: handlers.review(ctx, order_id, who, 5, "great"),
    "post_message": lambda ctx, order_id, who: handlers.post_message(ctx, order_id, who, "hi"),
    "read_messages": lambda ctx, order_id, who: handlers.messages(ctx, order_id, who),
}
SELLER_COMMANDS = {
    "accept": lambda ctx, order_id, who: handlers.accept(ctx, order_id, who),
    "decline": lambda ctx, order_id, who: handlers.decline(ctx, order_id, who, "x"),
    "ship": lambda ctx, order_id, who: handlers.ship(
        ctx, order_id, who, carrier="DHL", tracking_number="TRK-X", transfer_reference=None
    ),
    "confirm_return": lambda ctx, order_id, who: handlers.confirm_return(ctx, order_id, who),
    "post_message": BUYER_COMMANDS["post_message"],
    "read_messages": BUYER_COMMANDS["read_messages"],
}
# Each command where its rightful caller could take it.
STATUS_FOR = {
    "cancel": Status.ACCEPTED,
    "change_address": Status.ACCEPTED,
    "redeliver": Status.DELIVERY_FAILED,
    "confirm_receipt": Status.DELIVERED,
    "report_problem": Status.DELIVERED,
    "return": Status.DELIVERED,
    "exchange": Status.DELIVERED,
    "review": Status.COMPLETED,
    "post_message": Status.ACCEPTED,
    "read_messages": Status.ACCEPTED,
    "accept": Status.AWAITING_SELLER,
    "decline": Status.AWAITING_SELLER,
    "ship": Status.ACCEPTED,
    "confirm_return": Status.RETURN_REQUESTED,
}


@pytest.mark.parametrize("command", list(BUYER_COMMANDS))
async def test_another_buyer_does_not_find_the_order(ctx, engine, command):
    _, order = await order_through(ctx, STATUS_FOR[command])
    before = await event_types(engine)
    with pytest.raises(NotFound) as missing:
        await BUYER_COMMANDS[command](ctx, order.id, OTHER_BUYER)
    assert missing.value.code == "order-not-found"
    await assert_unchanged(ctx, engine, order, before)


@pytest.mark.parametrize("command", list(SELLER_COMMANDS))
async def test_another_seller_does_not_find_the_order(ctx, engine, command):
    _, order = await order_through(ctx, STATUS_FOR[command])
    before = await event_types(engine)
    with pytest.raises(NotFound):
        await SELLER_COMMANDS[command](ctx, order.id, OTHER_SELLER)
    await assert_unchanged(ctx, engine, order, before)


async def test_the_seller_of_an_order_is_not_its_buyer(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)
    with pytest.raises(NotFound):
        await handlers.cancel(ctx, order.id, handlers.Who("usr_seller", "buyer"), "x")
    with pytest.raises(NotFound):
        await handlers.accept(ctx, order.id, handlers.Who("usr_buyer", "seller"))


async def test_an_unknown_order_is_not_found(ctx):
    with pytest.raises(NotFound):
        await handlers.confirm_receipt(ctx, "ord_missing", BUYER)


@pytest.mark.parametrize("who", [AGENT, OPERATOR])
async def test_staff_see_an_order_but_cannot_act_for_its_parties(ctx, engine, who):
    _, order = await order_through(ctx, Status.ACCEPTED)
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.cancel(ctx, order.id, who, "x")
    assert not isinstance(refused.value, NotFound)
    assert refused.value.code == "forbidden"
    await assert_unchanged(ctx, engine, order, before)


# --- the address --------------------------------------------------------------------------


async def test_a_new_address_is_kept_and_announced(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)
    saved, rows = await emitting(engine, handlers.change_address(ctx, order.id, BUYER, NEW_ADDRESS))
    assert saved.status is Status.ACCEPTED
    assert (await stored_order(ctx, order.id)).shipping_address == NEW_ADDRESS
    assert [row.event_type for row in rows] == [P + "shipping_address_changed.v1"]
    assert (data(rows[0])["city"], data(rows[0])["country"]) == ("Lyon", "FR")


async def test_a_ticket_has_no_address_to_change(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED, Fulfilment.TRANSFER)
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.change_address(ctx, order.id, BUYER, NEW_ADDRESS)
    assert refused.value.code == "action-not-allowed"
    await assert_unchanged(ctx, engine, order, before)


async def test_the_address_is_fixed_once_shipped(ctx, engine):
    _, order = await order_through(ctx, Status.SHIPPED)
    with pytest.raises(TransitionRefused):
        await handlers.change_address(ctx, order.id, BUYER, NEW_ADDRESS)


# --- after delivery -------------------------------------------------------------------------


async def test_confirming_receipt_releases_the_escrow(ctx, engine):
    _, order = await order_through(ctx, Status.DELIVERED)
    saved, rows = await emitting(engine, handlers.confirm_receipt(ctx, order.id, BUYER))
    assert (saved.status, saved.completed_at) == (Status.COMPLETED, NOW)
    assert [row.event_type for row in rows] == [P + "completed.v1"]
    assert data(rows[0])["confirmed_by"] == "buyer"
    assert data(rows[0])["total"] == {"amount_minor": 12500, "currency": "EUR"}


async def test_goods_are_confirmed_only_once_delivered(ctx, engine):
    _, order = await order_through(ctx, Status.SHIPPED)
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.confirm_receipt(ctx, order.id, BUYER)
    assert refused.value.code == "action-not-allowed"
    await assert_unchanged(ctx, engine, order, before)


async def test_a_transferred_ticket_is_confirmed_without_a_carrier(ctx, engine):
    _, order = await order_through(ctx, Status.SHIPPED, Fulfilment.TRANSFER)
    saved, rows = await emitting(engine, handlers.confirm_receipt(ctx, order.id, BUYER))
    assert saved.status is Status.COMPLETED
    assert [row.event_type for row in rows] == [P + "completed.v1"]


async def test_a_reported_problem_disputes_the_order(ctx, engine):
    _, order = await order_through(ctx, Status.DELIVERED)
    saved, rows = await emitting(
        engine, handlers.report_problem(ctx, order.id, BUYER, "not_as_described", "Scratched")
    )
    assert (saved.status, saved.problem) == (Status.DISPUTED, "not_as_described")
    assert [row.event_type for row in rows] == [P + "problem_reported.v1"]
    assert (data(rows[0])["reason"], data(rows[0])["details"]) == ("not_as_described", "Scratched")


async def test_a_return_books_a_pickup_and_the_seller_confirms_it_back(ctx, engine):
    _, order = await order_through(ctx, Status.DELIVERED)

    saved, rows = await emitting(engine, handlers.request_return(ctx, order.id, BUYER, "Too big"))
    assert (saved.status, saved.return_pickup_date) == (Status.RETURN_REQUESTED, date(2026, 11, 25))
    assert [row.event_type for row in rows] == [P + "return_requested.v1"]
    assert (data(rows[0])["reason"], data(rows[0])["pickup_date"]) == ("Too big", "2026-11-25")
    # the seller's deadline to confirm it is back: the order's own, 14 days after the pickup
    assert datetime.fromisoformat(data(rows[0])["confirm_by"]) == saved.act_by
    assert saved.act_by.date() == date(2026, 12, 9)

    with pytest.raises(DomainError) as buyer_confirms:
        await handlers.confirm_return(ctx, order.id, BUYER)
    assert buyer_confirms.value.code == "forbidden"

    saved, rows = await emitting(engine, handlers.confirm_return(ctx, order.id, SELLER))
    assert saved.status is Status.RETURNED
    assert [row.event_type for row in rows] == [P + "returned.v1"]
    assert data(rows[0])["total"] == {"amount_minor": 12500, "currency": "EUR"}


async def test_a_return_after_the_window_is_refused(ctx, engine, clock):
    _, order = await order_through(ctx, Status.DELIVERED)
    stored = await stored_order(ctx, order.id)
    clock.set(stored.return_until + timedelta(seconds=1))
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.request_return(ctx, order.id, BUYER, "late")
    assert refused.value.code == "action-not-allowed"
    await assert_unchanged(ctx, engine, stored, before)


# --- an order that changed meanwhile ------------------------------------------------------------


def someone_writes_first(engine, monkeypatch) -> list[str]:
    """Between a command's read and its write, something else (an event handler) writes the
    order, once: the ids of the orders so raced."""
    from sqlalchemy import update

    from orders.db import orders
    from orders.handlers import commands

    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: a write cannot land between these two")
    real_keep = commands.keep
    raced: list[str] = []

    async def keep_after_someone_else_wrote(ctx_, uow, before, outcome):
        if not raced:
            raced.append(before.id)
            async with engine.begin() as other:
                await other.execute(
                    update(orders)
                    .where(orders.c.id == before.id)
                    .values(version=orders.c.version + 1)
                )
        return await real_keep(ctx_, uow, before, outcome)

    monkeypatch.setattr(commands, "keep", keep_after_someone_else_wrote)
    return raced


async def test_a_command_that_loses_a_race_to_an_event_is_decided_again_on_the_new_order(
    ctx, engine, monkeypatch
):
    """The seller's accept is decided again on the order as it now is, not refused."""
    _, order = await order_through(ctx, Status.AWAITING_SELLER)
    raced = someone_writes_first(engine, monkeypatch)

    saved = await handlers.accept(ctx, order.id, SELLER)

    assert raced == [order.id]
    assert saved.status is Status.ACCEPTED
    assert (await stored_order(ctx, order.id)).status is Status.ACCEPTED


async def test_a_carriers_scan_that_loses_a_race_to_an_event_is_decided_again(
    ctx, engine, monkeypatch
):
    """Payments' capture landing with the scan is no reason to answer the carrier 409."""
    _, order = await order_through(ctx, Status.SHIPPED)
    raced = someone_writes_first(engine, monkeypatch)

    saved = await report(ctx, order.id, "delivered")

    assert raced == [order.id]
    assert saved.status is Status.DELIVERED
    assert (await stored_order(ctx, order.id)).status is Status.DELIVERED
