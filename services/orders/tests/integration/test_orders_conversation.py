"""Messages and reviews on an order, on SQLite and PostgreSQL: the buyer and the seller talk
(staff read along), and the buyer reviews a completed order once."""

import pytest
from sqlalchemy import func, select

from orders import handlers
from orders.db import reviews
from orders.domain import DomainError, Fulfilment, NotFound, Status, TransitionRefused

from orders_service_test_helpers import (
    AGENT,
    BUYER,
    OPERATOR,
    OTHER_BUYER,
    SELLER,
    THREE_PL,
    data,
    emitting,
    event_types,
    order_through,
    stored_order,
)
from orders_test_helpers import NOW

P = "marketplace.order."


async def review_rows(engine, order_id):
    async with engine.connect() as connection:
        query = select(func.count()).select_from(reviews).where(reviews.c.order_id == order_id)
        return (await connection.execute(query)).scalar_one()


# --- messages -----------------------------------------------------------------------------


async def test_the_buyer_and_the_seller_talk_and_both_read_it_in_order(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)

    first, rows = await emitting(engine, handlers.post_message(ctx, order.id, BUYER, "When?"))
    assert (first.sender_id, first.sender_role, first.sent_at) == ("usr_buyer", "buyer", NOW)
    assert [row.event_type for row in rows] == [P + "message_posted.v1"]
    event = data(rows[0])
    assert (event["message_id"], event["sender_role"], event["body"]) == (
        first.id,
        "buyer",
        "When?",
    )
    assert (event["buyer_id"], event["seller_id"]) == ("usr_buyer", "usr_seller")

    _, rows = await emitting(engine, handlers.post_message(ctx, order.id, SELLER, "Tomorrow"))
    assert data(rows[0])["sender_role"] == "seller"
    await handlers.post_message(ctx, order.id, BUYER, "Thanks")

    for reader in (BUYER, SELLER, AGENT, OPERATOR):
        thread = await handlers.messages(ctx, order.id, reader)
        assert [(m.sender_role, m.body) for m in thread] == [
            ("buyer", "When?"),
            ("seller", "Tomorrow"),
            ("buyer", "Thanks"),
        ]


@pytest.mark.parametrize("who", [AGENT, OPERATOR])
async def test_staff_read_but_do_not_post(ctx, engine, who):
    _, order = await order_through(ctx, Status.ACCEPTED)
    before = await event_types(engine)
    with pytest.raises(DomainError) as refused:
        await handlers.post_message(ctx, order.id, who, "Hello from support")
    assert refused.value.code == "not-a-party"
    assert await event_types(engine) == before
    assert await handlers.messages(ctx, order.id, BUYER) == []


async def test_a_3pl_is_not_a_party_to_the_conversation(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED, Fulfilment.WAREHOUSE)
    with pytest.raises(DomainError) as refused:
        await handlers.post_message(ctx, order.id, THREE_PL, "Picked up")
    assert refused.value.code == "not-a-party"


async def test_another_buyer_neither_reads_nor_posts(ctx, engine):
    _, order = await order_through(ctx, Status.ACCEPTED)
    await handlers.post_message(ctx, order.id, BUYER, "private")
    with pytest.raises(NotFound):
        await handlers.messages(ctx, order.id, OTHER_BUYER)
    with pytest.raises(NotFound):
        await handlers.post_message(ctx, order.id, OTHER_BUYER, "hi")


async def test_the_parties_may_still_talk_about_an_order_that_ended(ctx, engine):
    _, order = await order_through(ctx, Status.AWAITING_SELLER)
    await handlers.decline(ctx, order.id, SELLER, "sold elsewhere")
    message = await handlers.post_message(ctx, order.id, BUYER, "Pity")
    assert [m.id for m in await handlers.messages(ctx, order.id, SELLER)] == [message.id]


# --- reviews ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.SHIPPED, Status.DELIVERED])
async def test_an_order_is_reviewed_only_once_completed(ctx, engine, status):
    _, order = await order_through(ctx, status)
    before = await event_types(engine)
    with pytest.raises(TransitionRefused) as refused:
        await handlers.review(ctx, order.id, BUYER, 5, "Great")
    assert "review" not in refused.value.allowed
    assert await event_types(engine) == before
    assert await review_rows(engine, order.id) == 0


async def test_a_completed_order_is_reviewed_once(ctx, engine):
    _, order = await order_through(ctx, Status.COMPLETED)

    review, rows = await emitting(engine, handlers.review(ctx, order.id, BUYER, 5, "Great"))

    assert (review.order_id, review.seller_id, review.buyer_id) == (
        order.id,
        "usr_seller",
        "usr_buyer",
    )
    assert (review.rating, review.text, review.created_at) == (5, "Great", NOW)
    assert [row.event_type for row in rows] == [P + "reviewed.v1"]
    event = data(rows[0])
    assert (event["review_id"], event["rating"], event["text"]) == (review.id, 5, "Great")
    assert (await stored_order(ctx, order.id)).reviewed
    assert await review_rows(engine, order.id) == 1

    before = await event_types(engine)
    with pytest.raises(DomainError) as again:
        await handlers.review(ctx, order.id, BUYER, 1, "Changed my mind")
    assert again.value.code == "action-not-allowed"
    assert await event_types(engine) == before
    assert await review_rows(engine, order.id) == 1


async def test_a_seller_cannot_review_their_own_sale(ctx, engine):
    _, order = await order_through(ctx, Status.COMPLETED)
    with pytest.raises(DomainError) as refused:
        await handlers.review(ctx, order.id, SELLER, 5, "Lovely buyer")
    assert refused.value.code == "forbidden"
    assert await review_rows(engine, order.id) == 0
