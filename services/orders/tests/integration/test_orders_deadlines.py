"""The deadline jobs on a manual clock, on SQLite and PostgreSQL: each fires only what is due,
only once, and leaves alone the orders that moved on."""

from datetime import datetime, timedelta
from functools import partial

from orders import handlers
from orders.db import Orders
from orders.domain import ListingStatus, Status

from orders_service_test_helpers import (
    BUYER,
    SELLER,
    data,
    emitting,
    event_types,
    order_through,
    ship_order,
    stored_listing,
    stored_order,
)
from orders_test_helpers import NOW

P = "marketplace.order."
SECOND = timedelta(seconds=1)


# The jobs before there was one deadline job: it, restricted to the statuses of one deadline.
SCOPED = {
    "acceptance-window": handlers.expire_acceptances,
    "ship-by": handlers.flag_overdue_shipments,
    "auto-complete": handlers.complete_unconfirmed,
}


def job(ctx, name):
    """The job as the service's timers run it (or one of its status-scoped slices)."""
    if name in SCOPED:
        return partial(SCOPED[name], ctx)
    return handlers.timer_jobs(ctx)[name]


async def versions(ctx, *orders):
    return [(await stored_order(ctx, order.id)).version for order in orders]


# --- the acceptance window --------------------------------------------------------------------


async def test_an_order_the_seller_leaves_unanswered_is_cancelled_once_and_restocked(
    ctx, engine, clock
):
    listing, silent = await order_through(ctx, Status.AWAITING_SELLER, stock=1)
    _, accepted = await order_through(ctx, Status.ACCEPTED)
    _, cancelled = await order_through(ctx, Status.AWAITING_SELLER)
    await handlers.cancel(ctx, cancelled.id, BUYER, "changed my mind")
    others = await versions(ctx, accepted, cancelled)
    expire = job(ctx, "acceptance-window")

    clock.set(silent.accept_by - SECOND)
    fired, rows = await emitting(engine, expire(clock.now()))
    assert (fired, rows) == (0, [])
    assert (await stored_order(ctx, silent.id)).status is Status.AWAITING_SELLER

    clock.set(silent.accept_by)
    fired, rows = await emitting(engine, expire(clock.now()))
    assert fired == 1
    assert [row.event_type for row in rows] == [P + "cancelled.v1"]
    assert rows[0].message_key == silent.id
    assert (data(rows[0])["reason"], data(rows[0])["cancelled_by"]) == (
        "acceptance_window_missed",
        "system",
    )
    expired = await stored_order(ctx, silent.id)
    assert (expired.status, expired.cancel_reason) == (
        Status.CANCELLED,
        "acceptance_window_missed",
    )
    assert expired.timeline[-1].at == silent.accept_by
    restocked = await stored_listing(ctx, listing.id)
    assert (restocked.quantity_available, restocked.status) == (1, ListingStatus.ACTIVE)

    clock.advance(86400)
    fired, rows = await emitting(engine, expire(clock.now()))
    assert (fired, rows) == (0, [])
    assert await versions(ctx, accepted, cancelled) == others
    assert (await stored_listing(ctx, listing.id)).quantity_available == 1


async def test_an_order_accepted_while_the_job_runs_is_left_alone(ctx, engine, clock, monkeypatch):
    _, silent = await order_through(ctx, Status.AWAITING_SELLER)
    _, accepted = await order_through(ctx, Status.ACCEPTED)
    listed = Orders.due

    async def stale(self, status, deadline, now, limit):
        # The list was read just before the seller's acceptance was committed.
        return [accepted.id, *await listed(self, status, deadline, now, limit)]

    monkeypatch.setattr(Orders, "due", stale)
    clock.set(silent.accept_by)
    fired, rows = await emitting(engine, handlers.expire_acceptances(ctx, clock.now()))

    assert fired == 1
    assert [row.message_key for row in rows] == [silent.id]
    after = await stored_order(ctx, accepted.id)
    assert (after.status, after.version) == (Status.ACCEPTED, accepted.version)


# --- the ship-by deadline ---------------------------------------------------------------------


async def test_a_shipment_not_given_by_ship_by_is_flagged_once(ctx, engine, clock):
    _, late = await order_through(ctx, Status.ACCEPTED)
    _, shipped = await order_through(ctx, Status.SHIPPED)
    _, cancelled = await order_through(ctx, Status.ACCEPTED)
    await handlers.cancel(ctx, cancelled.id, BUYER, "too slow")
    others = await versions(ctx, shipped, cancelled)
    flag = job(ctx, "ship-by")
    assert late.ship_by == NOW + timedelta(days=2)  # Mon noon + 2 business days

    clock.set(late.ship_by - SECOND)
    fired, rows = await emitting(engine, flag(clock.now()))
    assert (fired, rows) == (0, [])

    clock.set(late.ship_by)
    fired, rows = await emitting(engine, flag(clock.now()))
    assert fired == 1
    assert [row.event_type for row in rows] == [P + "shipment_overdue.v1"]
    event = data(rows[0])
    assert event["order_id"] == late.id
    assert datetime.fromisoformat(event["ship_by"]) == late.ship_by
    assert datetime.fromisoformat(event["accepted_at"]) == late.accepted_at == NOW
    flagged = await stored_order(ctx, late.id)
    assert (flagged.status, flagged.shipment_overdue) == (Status.ACCEPTED, True)
    assert [entry.kind for entry in flagged.timeline].count("shipment_overdue") == 1

    clock.advance(3 * 86400)
    fired, rows = await emitting(engine, flag(clock.now()))
    assert (fired, rows) == (0, [])
    assert await versions(ctx, shipped, cancelled) == others

    # Flagged, the seller can still ship it.
    assert (await ship_order(ctx, late.id)).status is Status.SHIPPED


# --- auto-complete ----------------------------------------------------------------------------


async def test_a_delivery_nobody_confirms_completes_once_by_itself(ctx, engine, clock):
    _, quiet = await order_through(ctx, Status.DELIVERED)
    _, disputed = await order_through(ctx, Status.DELIVERED)
    await handlers.report_problem(ctx, disputed.id, BUYER, "damaged", "Cracked")
    _, confirmed = await order_through(ctx, Status.COMPLETED)
    _, returning = await order_through(ctx, Status.RETURN_REQUESTED)
    _, exchanging = await order_through(ctx, Status.EXCHANGE_REQUESTED)
    moved_on = (disputed, confirmed, returning, exchanging)
    others = await versions(ctx, *moved_on)
    complete = job(ctx, "auto-complete")
    assert quiet.auto_complete_at == NOW + timedelta(days=3)

    clock.set(quiet.auto_complete_at - SECOND)
    fired, rows = await emitting(engine, complete(clock.now()))
    assert (fired, rows) == (0, [])

    clock.set(quiet.auto_complete_at)
    fired, rows = await emitting(engine, complete(clock.now()))
    assert fired == 1
    assert [row.event_type for row in rows] == [P + "completed.v1"]
    assert rows[0].message_key == quiet.id
    assert data(rows[0])["confirmed_by"] == "system"
    assert data(rows[0])["total"] == {"amount_minor": 12500, "currency": "EUR"}
    done = await stored_order(ctx, quiet.id)
    assert (done.status, done.completed_at) == (Status.COMPLETED, quiet.auto_complete_at)

    clock.advance(86400)
    fired, rows = await emitting(engine, complete(clock.now()))
    assert (fired, rows) == (0, [])
    assert await versions(ctx, *moved_on) == others
    assert [(await stored_order(ctx, o.id)).status for o in moved_on] == [
        Status.DISPUTED,
        Status.COMPLETED,
        Status.RETURN_REQUESTED,
        Status.EXCHANGE_REQUESTED,
    ]


async def test_an_auto_completed_order_can_be_reviewed(ctx, engine, clock):
    _, order = await order_through(ctx, Status.DELIVERED)
    clock.set(order.auto_complete_at)
    assert await handlers.complete_unconfirmed(ctx, clock.now()) == 1
    review = await handlers.review(ctx, order.id, BUYER, 4, "Fine")
    assert review.rating == 4


async def test_the_jobs_do_nothing_when_nothing_is_due(ctx, engine, clock):
    await order_through(ctx, Status.AWAITING_SELLER)
    await order_through(ctx, Status.ACCEPTED)
    await order_through(ctx, Status.DELIVERED)
    before = await event_types(engine)
    for name in ("acceptance-window", "ship-by", "auto-complete"):
        assert await job(ctx, name)(clock.now()) == 0
    assert await event_types(engine) == before


async def test_a_return_is_possible_within_the_return_window_after_auto_complete(
    ctx, engine, clock
):
    _, order = await order_through(ctx, Status.DELIVERED)
    clock.set(order.auto_complete_at)
    assert await handlers.complete_unconfirmed(ctx, clock.now()) == 1
    clock.set(order.delivered_at + timedelta(days=5))
    assert clock.now() < order.return_until
    returned = await handlers.request_return(ctx, order.id, BUYER, "Too small")
    assert returned.status is Status.RETURN_REQUESTED


# --- the one deadline job: every waiting state ------------------------------------------------


async def test_the_deadline_job_cancels_an_order_whose_card_never_authorized(ctx, engine, clock):
    listing, waiting = await order_through(ctx, Status.PLACED, stock=1)
    _, authorized = await order_through(ctx, Status.AWAITING_SELLER)
    others = await versions(ctx, authorized)
    deadlines = job(ctx, "deadlines")
    assert waiting.act_by == NOW + timedelta(hours=1)
    assert authorized.act_by == authorized.accept_by

    clock.set(waiting.act_by - SECOND)
    assert await emitting(engine, deadlines(clock.now())) == (0, [])

    clock.set(waiting.act_by)
    fired, rows = await emitting(engine, deadlines(clock.now()))
    assert fired == 1
    assert [row.event_type for row in rows] == [P + "cancelled.v1"]
    assert (data(rows[0])["reason"], data(rows[0])["cancelled_by"]) == (
        "payment_not_completed",
        "system",
    )
    cancelled = await stored_order(ctx, waiting.id)
    assert (cancelled.status, cancelled.act_by) == (Status.CANCELLED, None)
    assert (await stored_listing(ctx, listing.id)).quantity_available == 1
    assert await versions(ctx, authorized) == others
    assert await emitting(engine, deadlines(clock.now())) == (0, [])


async def test_the_deadline_job_flags_then_cancels_an_order_never_shipped(ctx, engine, clock):
    _, late = await order_through(ctx, Status.ACCEPTED)
    _, on_time = await order_through(ctx, Status.ACCEPTED)
    deadlines = job(ctx, "deadlines")

    clock.set(late.ship_by)
    await ship_order(ctx, on_time.id)
    fired, rows = await emitting(engine, deadlines(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "shipment_overdue.v1"])
    flagged = await stored_order(ctx, late.id)
    assert flagged.act_by == late.ship_by + timedelta(days=5)  # Wed + 3 business days: Mon

    clock.set(flagged.act_by - SECOND)
    assert await emitting(engine, deadlines(clock.now())) == (0, [])
    clock.set(flagged.act_by)
    fired, rows = await emitting(engine, deadlines(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "cancelled.v1"])
    assert (data(rows[0])["reason"], data(rows[0])["order_id"]) == (
        "shipment_window_missed",
        late.id,
    )
    assert (await stored_order(ctx, late.id)).status is Status.CANCELLED
    assert (await stored_order(ctx, on_time.id)).status is Status.SHIPPED


async def test_the_deadline_job_asks_about_an_unscanned_parcel_then_completes_it(
    ctx, engine, clock
):
    _, order = await order_through(ctx, Status.SHIPPED)
    deadlines = job(ctx, "deadlines")
    assert order.act_by == NOW + timedelta(days=14)

    clock.set(order.act_by)
    fired, rows = await emitting(engine, deadlines(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "delivery_unconfirmed.v1"])
    asked = await stored_order(ctx, order.id)
    assert datetime.fromisoformat(data(rows[0])["confirm_by"]) == asked.act_by
    assert (asked.status, asked.act_by) == (Status.SHIPPED, clock.now() + timedelta(days=3))

    clock.set(asked.act_by)
    fired, rows = await emitting(engine, deadlines(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "completed.v1"])
    assert data(rows[0])["confirmed_by"] == "system"
    assert (await stored_order(ctx, order.id)).status is Status.COMPLETED


async def test_the_deadline_job_returns_an_undelivered_parcel_to_its_sender(ctx, engine, clock):
    _, order = await order_through(ctx, Status.DELIVERY_FAILED)
    assert order.act_by == NOW + timedelta(days=7)
    clock.set(order.act_by)
    fired, rows = await emitting(engine, job(ctx, "deadlines")(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "returned_to_sender.v1"])
    assert data(rows[0])["fault"] == "buyer"  # no new date chosen: no defect of the seller's
    assert (await stored_order(ctx, order.id)).status is Status.RETURNED_TO_SENDER


async def test_the_deadline_job_refunds_a_return_the_seller_never_confirmed(ctx, engine, clock):
    _, order = await order_through(ctx, Status.RETURN_REQUESTED)
    _, confirmed = await order_through(ctx, Status.RETURN_REQUESTED)
    await handlers.confirm_return(ctx, confirmed.id, SELLER)
    others = await versions(ctx, confirmed)
    clock.set(order.act_by)
    fired, rows = await emitting(engine, job(ctx, "deadlines")(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "returned.v1"])
    assert (data(rows[0])["decided_by"], data(rows[0])["reason"]) == (
        "system",
        "return_not_confirmed",
    )
    assert (await stored_order(ctx, order.id)).status is Status.RETURNED
    assert await versions(ctx, confirmed) == others


async def test_the_deadline_job_escalates_then_refunds_an_exchange_never_shipped(
    ctx, engine, clock
):
    _, order = await order_through(ctx, Status.EXCHANGE_REQUESTED)
    deadlines = job(ctx, "deadlines")
    clock.set(order.act_by)
    fired, rows = await emitting(engine, deadlines(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "exchange_overdue.v1"])
    late = await stored_order(ctx, order.id)
    assert datetime.fromisoformat(data(rows[0])["refund_at"]) == late.act_by

    clock.set(late.act_by)
    fired, rows = await emitting(engine, deadlines(clock.now()))
    assert (fired, [row.event_type for row in rows]) == (1, [P + "returned.v1"])
    assert data(rows[0])["reason"] == "replacement_not_shipped"
    assert (await stored_order(ctx, order.id)).status is Status.RETURNED
