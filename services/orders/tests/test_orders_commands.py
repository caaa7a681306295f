"""Commands on an order, on SQLite and PostgreSQL: each changes the order, emits exactly the
events that follow to the outbox, and gives the stock back when the order ends unfulfilled.
Only the order's parties see it; a refused command changes nothing."""

from datetime import date, datetime, timedelta

import pytest

from contracts import Money
from contracts.payments import PaymentCaptured, PaymentRefunded, PaymentReleased, PaymentVoided
from orders import domain, handlers
from orders.domain import (
    Actor,
    DomainError,
    Fulfilment,
    ListingStatus,
    NotFound,
    PaymentState,
    Status,
    TransitionRefused,
)

from orders_test_helpers import (
    AGENT,
    BUYER,
    CALENDAR,
    NEW_ADDRESS,
    NOW,
    OPERATOR,
    OTHER_BUYER,
    OTHER_SELLER,
    RULES,
    SELLER,
    THREE_PL,
    data,
    emitting,
    event_types,
    handle,
    order_through,
    report,
    ship_order,
    stored_listing,
    stored_order,
    tracking_of,
)

P = "marketplace.order."


def when(value):
    return datetime.fromisoformat(value)


async def assert_unchanged(ctx, engine, order, outbox_before):
    """A refused command left the order and the outbox as they were."""
    after = await stored_order(ctx, order.id)
    assert (after.status, after.version) == (order.status, order.version)
    assert after.timeline == order.timeline
    assert await event_types(engine) == outbox_before


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


# --- payment facts from payments ------------------------------------------------------------


async def test_payment_facts_fill_the_order_view_and_a_full_refund_ends_a_return(ctx):
    _, order = await order_through(ctx, Status.DELIVERED)
    total, now = order.total, ctx.clock.now()
    fee = Money(amount_minor=total.amount_minor // 10, currency=total.currency)
    half = Money(amount_minor=total.amount_minor // 2, currency=total.currency)

    await handle(
        ctx,
        PaymentCaptured(order_id=order.id, payment_intent_id="pi_1", amount=total, captured_at=now),
    )
    captured = await stored_order(ctx, order.id)
    assert (captured.status, captured.payment_state, captured.captured) == (
        Status.DELIVERED,
        PaymentState.CAPTURED,
        total,
    )

    await handle(
        ctx,
        PaymentReleased(
            order_id=order.id,
            seller_id=order.seller_id,
            amount=total - fee,
            platform_fee=fee,
            released_at=now,
        ),
    )
    released = await stored_order(ctx, order.id)
    assert (released.payment_state, released.released) == (PaymentState.RELEASED, total - fee)

    await handlers.request_return(ctx, order.id, BUYER, "Too small")
    await handlers.confirm_return(ctx, order.id, SELLER)
    await handle(
        ctx,
        PaymentRefunded(
            order_id=order.id,
            amount=half,
            total_refunded=half,
            full=False,
            reason="return",
            refunded_at=now,
        ),
    )
    partly = await stored_order(ctx, order.id)
    assert (partly.status, partly.payment_state, partly.refunded) == (
        Status.RETURNED,
        PaymentState.PARTIALLY_REFUNDED,
        half,
    )

    await handle(
        ctx,
        PaymentRefunded(
            order_id=order.id,
            amount=total - half,
            total_refunded=total,
            full=True,
            reason="return",
            refunded_at=now,
        ),
    )
    refunded = await stored_order(ctx, order.id)
    assert (refunded.status, refunded.payment_state, refunded.refunded) == (
        Status.REFUNDED,
        PaymentState.REFUNDED,
        total,
    )
    assert [entry.kind for entry in refunded.timeline][-2:] == ["refunded", "refunded"]


async def test_a_voided_authorization_is_shown_on_a_cancelled_order(ctx):
    _, order = await order_through(ctx, Status.AWAITING_SELLER)
    await handlers.cancel(ctx, order.id, BUYER, "Found it cheaper")
    await handle(
        ctx,
        PaymentVoided(
            order_id=order.id,
            payment_intent_id="pi_1",
            amount=order.total,
            voided_at=ctx.clock.now(),
        ),
    )
    voided = await stored_order(ctx, order.id)
    assert (voided.status, voided.payment_state) == (Status.CANCELLED, PaymentState.VOIDED)
    assert voided.timeline[-1].detail == "Card authorization released; nothing was charged"


# --- a hold released under an open order -------------------------------------------------------

SUPPORT_VOID = "Support ticket tkt_1: Refunded before shipment"


def void_of(order, reason=SUPPORT_VOID):
    return PaymentVoided(
        order_id=order.id,
        payment_intent_id="pi_1",
        amount=order.total,
        voided_at=NOW,
        reason=reason,
    )


@pytest.mark.parametrize("status", [Status.AWAITING_SELLER, Status.ACCEPTED])
async def test_a_hold_support_released_under_an_open_order_cancels_it(ctx, engine, status):
    listing, order = await order_through(ctx, status, stock=1)

    _, rows = await emitting(engine, handle(ctx, void_of(order)))

    cancelled = await stored_order(ctx, order.id)
    assert (cancelled.status, cancelled.payment_state, cancelled.cancel_reason) == (
        Status.CANCELLED,
        PaymentState.VOIDED,
        "released_by_support",
    )
    assert cancelled.timeline[-1].kind == "cancelled"
    assert cancelled.timeline[-1].detail.startswith("Support refunded the order before it shipped")
    assert [row.event_type for row in rows] == [P + "cancelled.v1"]
    # The seller did nothing wrong: this is not one of their cancellations.
    assert (data(rows[0])["cancelled_by"], data(rows[0])["reason"]) == (
        "system",
        "released_by_support",
    )
    assert (await stored_listing(ctx, listing.id)).quantity_available == 1
    assert cancelled.allowed_actions(Actor.SELLER, NOW) == ["message"]
    with pytest.raises(TransitionRefused):
        await ship_order(ctx, order.id)

    step_messages = [step.message for step in domain.steps(cancelled, CALENDAR, RULES)]
    assert any("Support released the hold on your card" in m for m in step_messages)


async def test_a_hold_released_twice_cancels_once(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)
    await handle(ctx, void_of(order))

    _, rows = await emitting(engine, handle(ctx, void_of(order)))

    assert rows == []
    assert (await stored_order(ctx, order.id)).status is Status.CANCELLED


@pytest.mark.parametrize(
    "end",
    [
        lambda ctx, order: handlers.cancel(ctx, order.id, BUYER, "Found it cheaper"),
        lambda ctx, order: handlers.decline(ctx, order.id, SELLER, "Sold elsewhere"),
    ],
    ids=["buyer-cancelled", "seller-declined"],
)
async def test_the_void_after_orders_own_ending_only_records_it(ctx, engine, end):
    _, order = await order_through(ctx, Status.AWAITING_SELLER)
    ended = await end(ctx, order)

    _, rows = await emitting(engine, handle(ctx, void_of(order, reason="The order ended")))

    voided = await stored_order(ctx, order.id)
    assert (voided.status, voided.cancel_reason) == (ended.status, ended.cancel_reason)
    assert voided.payment_state is PaymentState.VOIDED
    assert rows == []
