"""An order cancelled by support (`order.cancelled`, `cancelled_by_support`), on SQLite and
PostgreSQL against localstripe: after its capture the buyer gets back what is left, exactly
once however often the cancellation arrives; before it, the hold is voided and nothing is
refunded."""

from datetime import timedelta

from contracts.orders import OrderCancelled, OrderShipped
from payments.domain import PaymentState

from payments_test_helpers import (
    NOW,
    authorized_order,
    balances,
    deliver,
    deliver_together,
    eur,
    events_of,
    fact,
    resolved,
    settle,
    shipped_order,
    stored_payment,
)


def cancelled_by_support(order_id, *, at=NOW):
    return OrderCancelled(
        order_id=order_id,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        reason="cancelled_by_support",
        cancelled_by="system",
        cancelled_at=at,
    )


async def refunds_at_stripe(stripe_cards, payment):
    refunds = await stripe_cards.client.v1.refunds.list_async(
        {"payment_intent": payment.payment_intent_id}
    )
    return sorted(r.amount for r in refunds.data)


async def test_an_order_cancelled_after_its_capture_is_refunded_once(ctx, engine, stripe_cards):
    order_id = await shipped_order(ctx)
    cancellation = cancelled_by_support(order_id)
    await deliver(ctx, cancellation)
    await deliver(ctx, cancellation)  # the same event delivered again
    await settle(ctx)
    await deliver(ctx, cancelled_by_support(order_id, at=NOW + timedelta(hours=1)))  # a 2nd one
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert (payment.state, payment.refunded_minor) == (PaymentState.REFUNDED, 8400)
    assert await refunds_at_stripe(stripe_cards, payment) == [8400]
    refunded = [data for kind, data in await events_of(engine, order_id) if kind == "refunded.v1"]
    assert len(refunded) == 1  # the buyer is told once
    assert (refunded[0]["amount"], refunded[0]["full"]) == (eur(8400).model_dump(), True)
    assert "cancelled" in refunded[0]["reason"]
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "refunds": 8400}


async def test_a_cancel_after_a_partial_refund_returns_only_what_is_left(ctx, engine, stripe_cards):
    order_id = await shipped_order(ctx)
    await deliver(ctx, resolved(order_id, "partial_refund", eur(2000), ticket_id="tkt_lens"))
    await settle(ctx)
    await deliver(ctx, cancelled_by_support(order_id))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert (payment.state, payment.refunded_minor) == (PaymentState.REFUNDED, 8400)
    assert await refunds_at_stripe(stripe_cards, payment) == [2000, 6400]
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "refunds": 8400}


async def test_an_order_shipped_and_cancelled_in_one_batch_is_captured_then_refunded(
    ctx, engine, stripe_cards
):
    """The cancellation arrives while the capture is only decided: it waits for it."""
    order_id = await authorized_order(ctx)
    await deliver_together(
        ctx, OrderShipped(**fact(order_id), total=eur(8400)), cancelled_by_support(order_id)
    )
    await deliver(ctx, cancelled_by_support(order_id))  # again, while the capture is under way
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert (payment.state, payment.refunded_minor) == (PaymentState.REFUNDED, 8400)
    assert await refunds_at_stripe(stripe_cards, payment) == [8400]
    kinds = [kind for kind, _ in await events_of(engine, order_id)]
    assert kinds == ["authorized.v1", "captured.v1", "refunded.v1"]


async def test_an_order_cancelled_before_its_capture_has_its_hold_voided_and_no_refund(
    ctx, engine, stripe_cards
):
    order_id = await authorized_order(ctx)
    await deliver(ctx, cancelled_by_support(order_id))
    await deliver(ctx, cancelled_by_support(order_id))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert (payment.state, payment.captured_minor, payment.refunded_minor) == (
        PaymentState.VOIDED,
        0,
        0,
    )
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(payment.payment_intent_id)
    assert intent.status == "canceled"
    assert await refunds_at_stripe(stripe_cards, payment) == []
    kinds = [kind for kind, _ in await events_of(engine, order_id)]
    assert kinds == ["authorized.v1", "voided.v1"]
    assert await balances(ctx, order_id) == {}
