"""The inbox is pruned by a job every consuming service runs (`prune-inbox`): an event id is
kept while its event can come back (its topic's retention, or its dead letters', whichever is
longer; for ever on a topic kept for ever), so that after 130 days `replay-projection` finds
no handled event missing from the topics. On SQLite and PostgreSQL, with the injected clock."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from contracts.orders import OrderPlaced
from servicekit.hosting.runtime import ServiceRuntime
from servicekit.hosting.settings import KitSettings
from servicekit.messaging.consumer import EventRouter
from servicekit.messaging.db import inbox
from servicekit.operations import topology

from kit_helpers import NOW

DAY = timedelta(days=1)


async def nothing(received, uow):
    pass


async def handled(engine, *rows):
    async with engine.begin() as connection:
        for event_id, topic, ago in rows:
            await connection.execute(
                inbox.insert().values(
                    event_id=event_id,
                    event_type="marketplace.order.placed.v1",
                    topic=topic,
                    handled_at=NOW - ago,
                )
            )


async def remembered(engine):
    async with engine.connect() as connection:
        return set((await connection.execute(select(inbox.c.event_id))).scalars())


def test_each_topic_is_remembered_as_long_as_its_events_can_come_back():
    keep = topology.inbox_keep("support")
    assert keep["orders.events"] == 130 * DAY  # replayed: its retention
    assert keep["payments.events"] == 28 * DAY  # 7 days, but its dead letters wait 28
    assert keep["seller_standards.events"] is None  # kept for ever, remembered for ever
    assert "principals.events" not in keep  # support does not read it


async def test_the_service_prunes_its_inbox_on_its_clock(engine, clock):
    settings = KitSettings(service_name="seller_standards", open_internal_api=True)
    runtime = ServiceRuntime(settings, migrations_dir=Path("."), engine=engine, clock=clock)
    router = EventRouter()
    router.add(OrderPlaced, nothing)
    runtime.consume(router)
    await handled(
        engine,
        ("evt-orders-old", "orders.events", 130 * DAY + timedelta(minutes=1)),
        ("evt-orders-kept", "orders.events", 129 * DAY),
        ("evt-own-decision", "seller_standards.events", 400 * DAY),
        ("evt-unknown-topic", "elsewhere.events", 400 * DAY),
    )

    await runtime.timers.advance_to(NOW)

    assert await remembered(engine) == {
        "evt-orders-kept",
        "evt-own-decision",
        "evt-unknown-topic",
    }
    # Once an hour: a row that grows old meanwhile goes at the next run, not before.
    await runtime.timers.advance_to(NOW + 1 * DAY - timedelta(minutes=1))
    assert "evt-orders-kept" in await remembered(engine)
    await runtime.timers.advance_to(NOW + 1 * DAY + timedelta(hours=1))
    assert await remembered(engine) == {"evt-own-decision", "evt-unknown-topic"}
    await runtime.producer.stop()
