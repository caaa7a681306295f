"""The order-facts projection rebuilt from the events on the real broker: after a fault in
the facts, `marketplace replay-projection seller_standards.order_facts` puts back exactly what
the events say, and refuses, changing nothing, when the topics no longer hold them all (until
the inbox job has forgotten what the topics' retention removed)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from seller_standards import handlers
from seller_standards.db import seller_orders
from seller_standards.projections import order_facts_projection
from servicekit.messaging.consumer import BatchProcessor
from servicekit.messaging.db import inbox
from servicekit.messaging.inbox_pruning import InboxPruner
from servicekit.operations import cli, topology
from servicekit.operations.projections import HistoryIncomplete, rebuild
from servicekit.testing import publish, read_topic

from standards_test_helpers import NOW, SELLER, new_order_id, shipping_history


async def handled_history(ctx, bootstrap, *, late: int, on_time: int) -> list[str]:
    """Publish orders' shipping histories and let the service's own consumer code handle
    them from the broker, as it does live; answer the order ids."""
    order_ids = [new_order_id() for _ in range(late + on_time)]
    for index, order_id in enumerate(order_ids):
        for event in shipping_history(order_id, late=index < late):
            await publish(bootstrap, event, source="orders", time=NOW)
    records = [
        record
        for record in await read_topic(bootstrap, "orders.events", expect=3 * len(order_ids))
        if record.key.decode() in order_ids
    ]
    processor = BatchProcessor(ctx.db, handlers.event_router(ctx), group="seller_standards")
    await processor.process(records)
    return order_ids


async def facts_of(engine, order_ids):
    async with engine.connect() as connection:
        query = select(seller_orders).where(seller_orders.c.order_id.in_(order_ids))
        rows = (await connection.execute(query.order_by(seller_orders.c.order_id))).all()
    return [row._asdict() for row in rows]


async def test_a_rebuild_puts_back_the_facts_the_events_say(ctx, engine, clock, kafka_bootstrap):
    order_ids = await handled_history(ctx, kafka_bootstrap, late=2, on_time=3)
    clock.set(NOW + timedelta(days=5))
    good = await facts_of(engine, order_ids)
    assert len(good) == 5 and sum(f["shipped_at"] > f["ship_by"] for f in good) == 2
    async with engine.begin() as connection:  # a folding bug lost the shipments
        await connection.execute(update(seller_orders).values(shipped_at=None))
    wrong = await handlers.standards_of(ctx, SELLER)
    assert wrong.metrics["on_time_shipping_rate"].value == 0.0  # as if none had shipped

    result = await rebuild(order_facts_projection(ctx, kafka_bootstrap))

    assert result.events == 15 and result.rows_after == {"seller_orders": 5}
    assert await facts_of(engine, order_ids) == good
    shown = await handlers.standards_of(ctx, SELLER)
    assert shown.metrics["on_time_shipping_rate"].sample_size == 5
    assert shown.metrics["on_time_shipping_rate"].value == pytest.approx(0.6)


async def test_a_rebuild_refuses_when_the_topics_lost_events_it_was_built_from(
    ctx, engine, clock, kafka_bootstrap
):
    order_ids = await handled_history(ctx, kafka_bootstrap, late=0, on_time=1)
    before = await facts_of(engine, order_ids)
    async with engine.begin() as connection:  # handled long ago, since removed by retention
        await connection.execute(
            inbox.insert().values(
                event_id="evt-expired",
                event_type="marketplace.order.placed.v1",
                topic="orders.events",
                handled_at=NOW - timedelta(days=131),
            )
        )

    with pytest.raises(HistoryIncomplete, match="1 handled event"):
        await rebuild(order_facts_projection(ctx, kafka_bootstrap))
    assert await facts_of(engine, order_ids) == before

    # The service's inbox job forgets what the topics no longer hold (130 days), so a
    # service that has run longer than that can still rebuild.
    await InboxPruner(engine, topology.inbox_keep("seller_standards"))(clock.now())
    result = await rebuild(order_facts_projection(ctx, kafka_bootstrap))
    assert result.rows_after == {"seller_orders": result.rows_before["seller_orders"]}
    assert await facts_of(engine, order_ids) == before


def test_the_command_lists_the_projections_installed_here(capsys):
    assert cli.main(["replay-projection"]) == 0
    assert "seller_standards.order_facts" in capsys.readouterr().out
    assert cli.main(["replay-projection", "orders.nothing"]) == 1
