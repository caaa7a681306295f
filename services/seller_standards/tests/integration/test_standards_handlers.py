"""Seller standards' use cases on SQLite and PostgreSQL: events fold into each seller's
metrics, a seller who ships late falls below standard and is suspended after the review period,
operators' decisions and exemptions and agents' misuse flags count, and replaying the events
into an empty database rebuilds the same standards."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts.orders import (
    OrderDelivered,
    OrderMessagePosted,
    OrderProblemReported,
    OrderReviewed,
)
from contracts.support import TicketOpened
from seller_standards import handlers
from seller_standards.db import StandardsUnit
from seller_standards.domain.policy import Exemption, Policy, StandardsError
from seller_standards.handlers import StandardsContext
from servicekit.hosting.http import Problem
from servicekit.messaging.db import make_engine
from servicekit.messaging.migrations import upgrade
from servicekit.messaging.uow import Database

from standards_test_helpers import (
    NOW,
    SELLER,
    deliver,
    fact,
    new_order_id,
    placed,
    shipping_history,
    standing_changes,
)


def history_of(late: int, on_time: int, *, at=NOW):
    events = []
    for index in range(late + on_time):
        events += shipping_history(new_order_id(), late=index < late, at=at)
    return events


async def replay(ctx, events):
    for event in events:
        await deliver(ctx, event)


async def test_an_occasional_seller_is_not_judged_on_two_late_orders(ctx, engine, clock):
    await replay(ctx, history_of(late=2, on_time=0))
    clock.set(NOW + timedelta(days=5))
    shown = await handlers.standards_of(ctx, SELLER)
    on_time = shown.metrics["on_time_shipping_rate"]
    assert (on_time.value, on_time.sample_size, on_time.judged) == (0.0, 2, False)
    assert shown.standing.standing == "good"
    assert await standing_changes(engine) == []


async def test_a_seller_who_ships_late_falls_below_standard_and_is_suspended_after_review(
    ctx, engine, clock
):
    await replay(ctx, history_of(late=6, on_time=4))
    clock.set(NOW + timedelta(days=5))
    shown = await handlers.standards_of(ctx, SELLER)

    assert shown.standing.standing == "under_review"
    on_time = shown.metrics["on_time_shipping_rate"]
    assert (on_time.value, on_time.sample_size) == (0.4, 10)
    assert len(on_time.orders) == 6  # the late ones, to show the seller
    [change] = await standing_changes(engine)
    assert (change["standing"], change["previous"]) == ("under_review", "good")
    # judged as soon as ten orders were accepted: the ninth late shipment tipped it
    assert "on time shipping rate 33.3% is below 80% (9 orders)" in change["reason"]

    assert shown.standing.under_review_since == NOW  # when the late shipments came in
    clock.set(NOW + timedelta(days=13, hours=22))
    assert await handlers.reevaluate_sellers(ctx, clock.now()) == 1
    assert (await handlers.standards_of(ctx, SELLER)).standing.standing == "under_review"
    clock.set(NOW + timedelta(days=14))
    await handlers.reevaluate_sellers(ctx, clock.now())
    shown = await handlers.standards_of(ctx, SELLER)
    assert shown.standing.standing == "suspended"
    assert [h["standing"] for h in shown.history] == ["under_review", "suspended"]
    assert "after the review period" in shown.history[-1]["reason"]


async def test_an_order_counts_late_as_soon_as_its_ship_by_passes(ctx, clock):
    events = []
    for index in range(10):
        history = shipping_history(new_order_id(), late=False)
        events += history if index < 8 else history[:2]  # two never ship
    await replay(ctx, events)
    clock.set(NOW + timedelta(days=2, minutes=1))
    await handlers.reevaluate_sellers(ctx, clock.now())  # the hourly look at every seller
    shown = await handlers.standards_of(ctx, SELLER)
    assert shown.metrics["on_time_shipping_rate"].value == 0.8
    assert shown.standing.standing == "at_risk"


async def test_an_exemption_takes_a_disaster_week_out_of_the_metrics(ctx, clock):
    await replay(ctx, history_of(late=6, on_time=4))
    await replay(ctx, history_of(late=0, on_time=10, at=NOW + timedelta(days=20)))
    clock.set(NOW + timedelta(days=25))
    assert (await handlers.standards_of(ctx, SELLER)).metrics["on_time_shipping_rate"].value == 0.7

    shown = await handlers.add_exemption(
        ctx,
        SELLER,
        Exemption(NOW - timedelta(hours=1), NOW + timedelta(hours=1), "flood at the warehouse"),
        "usr_operator",
    )
    assert shown.metrics["on_time_shipping_rate"].value == 1.0
    assert shown.exemptions[0].reason == "flood at the warehouse"
    with pytest.raises(StandardsError, match="end after it starts"):
        await handlers.add_exemption(
            ctx, SELLER, Exemption(NOW, NOW - timedelta(days=1), "oops"), "usr_operator"
        )


async def test_a_review_flagged_as_misuse_stops_counting(ctx):
    order_ids = [new_order_id() for _ in range(5)]
    for index, order_id in enumerate(order_ids):
        rating = 1 if index == 0 else 5
        await deliver(
            ctx, OrderReviewed(**fact(order_id), review_id=f"rev_{index}", rating=rating, text="")
        )
    before = await handlers.standards_of(ctx, SELLER)
    assert before.metrics["average_rating"].value == 4.2
    after = await handlers.flag_misuse(ctx, "rev_0", "usr_agent")
    assert after.metrics["average_rating"].value == 5.0
    assert after.metrics["average_rating"].sample_size == 4


async def test_defects_replies_and_tracking_are_measured_per_order(ctx, clock):
    order_id = new_order_id()
    await replay(ctx, shipping_history(order_id, late=False))
    await deliver(ctx, OrderDelivered(**fact(order_id), auto_complete_at=NOW, return_until=NOW))
    await deliver(
        ctx, OrderProblemReported(**fact(order_id), reason="not_as_described", details="blue")
    )
    await deliver(
        ctx,
        TicketOpened(
            ticket_id="tkt_1",
            order_id=order_id,
            buyer_id="usr_buyer",
            seller_id=SELLER,
            reason="not_as_described",
            priority="high",
            title="x",
            opened_by="system",
            first_response_due=NOW,
            resolution_due=NOW,
            opened_at=NOW,
        ),
        source="support",
    )
    for sender, hours in (("buyer", 0), ("buyer", 1), ("seller", 30)):
        await deliver(
            ctx,
            OrderMessagePosted(
                **fact(order_id, NOW + timedelta(hours=hours)),
                message_id=f"m{hours}",
                sender_id=sender,
                sender_role=sender,
                body="?",
            ),
        )
    clock.set(NOW + timedelta(days=3))
    shown = await handlers.standards_of(ctx, SELLER)
    assert (shown.metrics["defect_rate"].value, shown.metrics["defect_rate"].orders) == (
        1.0,
        (order_id,),
    )
    assert shown.metrics["response_within_24h_rate"].value == 0.0  # replied after 30 hours
    assert shown.metrics["valid_tracking_rate"].value == 1.0


async def test_an_operators_decision_is_recorded_and_stands(ctx, engine):
    await deliver(ctx, placed(new_order_id()))  # a seller this service has heard of
    shown = await handlers.set_standing(ctx, SELLER, "suspended", "fraud report", "usr_operator")
    assert shown.standing.standing == "suspended"
    assert shown.history[-1] | {"at": None} == {
        "standing": "suspended",
        "previous": "good",
        "reason": "fraud report",
        "decided_by": "usr_operator",
        "at": None,
    }
    revoked = await handlers.set_standing(ctx, SELLER, "revoked", "confirmed fraud", "usr_op")
    assert revoked.standing.standing == "revoked"
    with pytest.raises(StandardsError, match="stays revoked"):
        await handlers.set_standing(ctx, SELLER, "good", "mistake", "usr_op")
    assert [c["standing"] for c in await standing_changes(engine)] == ["suspended", "revoked"]


async def test_replaying_the_events_into_an_empty_database_rebuilds_the_same_standards(
    ctx, clock, tmp_path
):
    events = history_of(late=3, on_time=8) + history_of(
        late=0, on_time=2, at=NOW + timedelta(days=1)
    )
    await replay(ctx, events)
    clock.set(NOW + timedelta(days=6))
    await handlers.reevaluate_sellers(ctx, clock.now())
    original = await handlers.standards_of(ctx, SELLER)

    fresh = make_engine(f"sqlite+aiosqlite:///{tmp_path}/rebuilt.db")
    await upgrade(fresh, ctx_migrations())
    rebuilt_ctx = StandardsContext(
        db=Database(fresh, source="seller_standards", clock=clock, unit=StandardsUnit),
        clock=clock,
        policy=Policy(),
    )
    try:
        await replay(rebuilt_ctx, events + events)  # every event twice, as a redelivery would
        await handlers.reevaluate_sellers(rebuilt_ctx, clock.now())
        rebuilt = await handlers.standards_of(rebuilt_ctx, SELLER)
    finally:
        await fresh.dispose()

    assert rebuilt.metrics == original.metrics
    assert rebuilt.standing.standing == original.standing.standing
    assert rebuilt.standing.score == original.standing.score


def ctx_migrations():
    from seller_standards.app import MIGRATIONS

    return MIGRATIONS


async def test_ten_accepted_orders_are_enough_to_judge_even_if_one_is_not_due_yet(ctx, clock):
    events = history_of(late=9, on_time=0)
    events += shipping_history(new_order_id(), late=False, at=NOW + timedelta(days=4))[:2]
    await replay(ctx, events)
    clock.set(NOW + timedelta(days=4))
    await handlers.reevaluate_sellers(ctx, clock.now())
    shown = await handlers.standards_of(ctx, SELLER)
    on_time = shown.metrics["on_time_shipping_rate"]
    assert (on_time.sample_size, on_time.population, on_time.judged) == (9, 10, True)
    assert shown.standing.standing == "under_review"


async def test_looking_at_a_sellers_standards_changes_nothing(ctx, engine, clock):
    await replay(ctx, history_of(late=0, on_time=8))
    await replay(
        ctx,
        [
            e
            for e in history_of(late=0, on_time=2)
            if e.type.endswith("placed.v1") or e.type.endswith("accepted.v1")
        ],
    )
    clock.set(NOW + timedelta(days=3))  # two ship-bys pass unshipped: 80%, at risk
    shown = await handlers.standards_of(ctx, SELLER)
    assert shown.metrics["on_time_shipping_rate"].value == 0.8
    assert shown.standing.standing == "good"  # decided by events and the hourly look only
    assert await standing_changes(engine) == []
    await handlers.standards_of(ctx, "usr_nobody")
    await handlers.reevaluate_sellers(ctx, clock.now())
    assert [c["standing"] for c in await standing_changes(engine)] == ["at_risk"]


async def test_operators_cannot_decide_about_a_seller_no_event_ever_named(ctx, engine):
    """A typo or a made-up id is a 404, and nothing is recorded or published for it."""
    with pytest.raises(Problem) as refused:
        await handlers.set_standing(ctx, "usr_nobody", "suspended", "fraud report", "usr_op")
    assert refused.value.status == 404
    with pytest.raises(Problem) as refused:
        await handlers.add_exemption(
            ctx, "usr_nobody", Exemption(NOW, NOW + timedelta(days=1), "flood"), "usr_op"
        )
    assert refused.value.status == 404
    assert await standing_changes(engine) == []
    assert (await handlers.standards_of(ctx, "usr_nobody")).history == []


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (NOW - timedelta(days=6 * 365), NOW),  # long out of every window
        (NOW, datetime(9999, 12, 31, tzinfo=UTC)),  # a typo, not a foreseeable disaster
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), NOW),  # would overflow UTC
    ],
)
async def test_an_exemption_out_of_reach_of_today_is_refused(ctx, starts, ends):
    await deliver(ctx, placed(new_order_id()))
    with pytest.raises(StandardsError, match="between five years ago and a year from now"):
        await handlers.add_exemption(ctx, SELLER, Exemption(starts, ends, "flood"), "usr_op")
