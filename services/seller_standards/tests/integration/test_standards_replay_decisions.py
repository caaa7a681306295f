"""The replay on the real broker puts back what operators and agents decided (#19): the
exemptions, misuse flags and standing decisions the service published on its own topic and
read back are folded again, so a lost row or flag returns and nothing is added twice."""

from datetime import timedelta

from sqlalchemy import delete, select, update

from contracts import event_type_registry
from contracts.orders import OrderReviewed
from seller_standards import handlers
from seller_standards.db import exemptions, reviews, standing_history
from seller_standards.domain.policy import Exemption
from seller_standards.projections import order_facts_projection
from servicekit.messaging.consumer import BatchProcessor
from servicekit.operations.projections import rebuild
from servicekit.testing import publish, read_topic

from standards_test_helpers import NOW, SELLER, fact, new_order_id, placed, published

OWN = (
    "marketplace.seller.exemption_granted.v1",
    "marketplace.seller.review_flagged.v1",
    "marketplace.seller.standing_decided.v1",
)


async def consumed(ctx, bootstrap, topic, events, source):
    """Publish `events` and let the service's consumer code handle them from the broker."""
    for event in events:
        await publish(bootstrap, event, source=source, time=NOW)
    # the topic is shared with other tests (and this one on the other database): only ours
    ours = [event.model_dump_json()[1:-1] for event in events]
    records = [
        r
        for r in await read_topic(bootstrap, topic, expect=len(events))
        if any(data in r.value.decode() for data in ours)
    ]
    processor = BatchProcessor(ctx.db, handlers.event_router(ctx), group="seller_standards")
    await processor.process(records)


async def rows(engine, table, *columns):
    async with engine.connect() as connection:
        found = await connection.execute(select(*[table.c[c] for c in columns]))
        return sorted(tuple(row) for row in found.all())


async def test_a_rebuild_puts_back_exemptions_flags_and_decisions(ctx, engine, kafka_bootstrap):
    seller = SELLER
    order_id, review_id = new_order_id(), f"rev_{new_order_id()[-8:]}"
    review = OrderReviewed(**fact(order_id), review_id=review_id, rating=1, text="rude")
    await consumed(ctx, kafka_bootstrap, "orders.events", [placed(order_id), review], "orders")
    span = Exemption(NOW - timedelta(days=2), NOW - timedelta(days=1), "Flood")
    await handlers.add_exemption(ctx, seller, span, "usr_operator")
    await handlers.flag_misuse(ctx, review_id, "usr_agent")
    await handlers.set_standing(ctx, seller, "under_review", "a fraud report", "usr_operator")
    own = [
        event_type_registry()[event_type](**data)
        for event_type in OWN
        for data in await published(engine, event_type)
    ]
    # what the service published comes back on its own topic: live, it changes nothing
    await consumed(ctx, kafka_bootstrap, "seller_standards.events", own, "seller_standards")
    kept = (
        await rows(engine, exemptions, "exemption_id", "reason", "decided_by"),
        await rows(engine, reviews, "review_id", "misuse", "text"),
        await rows(engine, standing_history, "decision_id", "standing", "decided_by"),
    )
    assert len(kept[0]) == 1 and kept[1] == [(review_id, True, "rude")] and len(kept[2]) == 1

    async with engine.begin() as connection:  # a restore from an old backup lost them
        await connection.execute(delete(exemptions))
        await connection.execute(delete(standing_history))
        await connection.execute(update(reviews).values(misuse=False))

    await rebuild(order_facts_projection(ctx, kafka_bootstrap))

    assert (
        await rows(engine, exemptions, "exemption_id", "reason", "decided_by"),
        await rows(engine, reviews, "review_id", "misuse", "text"),
        await rows(engine, standing_history, "decision_id", "standing", "decided_by"),
    ) == kept
    shown = await handlers.standards_of(ctx, seller)
    assert shown.metrics["average_rating"].sample_size == 0  # the flag counts again
    assert [e.reason for e in shown.exemptions] == ["Flood"]
    assert shown.history[-1]["decided_by"] == "usr_operator"
