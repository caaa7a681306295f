"""What Stripe refuses for good becomes an event (#18), on SQLite and PostgreSQL against the
Stripe-compatible server: a refund refused is `payment.refund_failed` naming the ticket that
decided it (support opens an urgent ticket, the buyer is told), and the money stays owed to
the buyer in `refunds_pending`, never reported refunded."""

from payments.domain import OperationKind, OperationState, PaymentState

from payments_test_helpers import (
    balances,
    deliver,
    events_of,
    resolved,
    settle,
    shipped_order,
    stored_payment,
)


async def test_a_refund_stripe_refuses_is_an_event_naming_the_ticket_and_stays_owed(
    ctx, engine, stripe_cards
):
    order_id = await shipped_order(ctx)
    payment = await stored_payment(ctx, order_id)
    # Someone refunded the charge at Stripe directly: our refund of it is refused for good.
    await stripe_cards.client.v1.refunds.create_async({"payment_intent": payment.payment_intent_id})

    await deliver(ctx, resolved(order_id, "refund", ticket_id="tkt_refused"))
    await settle(ctx)

    events = await events_of(engine, order_id)
    assert [kind for kind, _ in events] == ["authorized.v1", "captured.v1", "refund_failed.v1"]
    failed = events[-1][1]
    assert failed["ticket_id"] == "tkt_refused"
    assert failed["amount"] == {"amount_minor": 8400, "currency": "EUR"}
    assert failed["buyer_id"] == "usr_buyer"
    assert failed["reason"].startswith("Support ticket tkt_refused")
    assert failed["failure"]
    # Owed to the buyer, not refunded: the money waits in refunds_pending for an agent.
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "refunds_pending": 8400}
    async with ctx.db.unit_of_work() as uow:
        operations = await uow.operations.of_order(order_id)
    refund = next(op for op in operations if op.kind is OperationKind.REFUND)
    assert refund.state is OperationState.FAILED
    assert (await stored_payment(ctx, order_id)).state is PaymentState.REFUNDED
