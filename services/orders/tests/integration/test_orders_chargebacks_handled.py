"""A chargeback closing ends the order (#18), through orders' payment-facts handler on SQLite
and PostgreSQL: lost in full, a completed order ends refunded and nothing is published (no
second payment); won, a disputed order completes once and `order.completed` asks payments to
pay the seller the rest."""

from contracts import Money
from contracts.payments import PaymentDisputeClosed
from orders import handlers
from orders.domain import Status

from orders_service_test_helpers import (
    BUYER,
    data,
    emitting,
    handle,
    order_through,
    stored_order,
)
from orders_service_test_helpers import ORDER_EVENT as P


def closed(order, outcome: str, refundable_minor: int) -> PaymentDisputeClosed:
    currency = order.total.currency
    return PaymentDisputeClosed(
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        dispute_id="dp_1",
        amount=order.total,
        outcome=outcome,  # type: ignore[arg-type]
        closed_at=order.updated_at,
        refundable=Money(amount_minor=refundable_minor, currency=currency),
        reason="product_not_received",
    )


async def test_a_chargeback_lost_in_full_ends_a_completed_order_refunded(ctx, engine):
    _, order = await order_through(ctx, Status.COMPLETED)

    _, rows = await emitting(engine, handle(ctx, closed(order, "lost", 0)))

    refunded = await stored_order(ctx, order.id)
    assert refunded.status is Status.REFUNDED
    assert refunded.timeline[-1].detail.startswith("The buyer's bank decided the chargeback")
    assert rows == []


async def test_a_chargeback_won_completes_a_disputed_order_once(ctx, engine):
    _, order = await order_through(ctx, Status.DELIVERED)
    order = await handlers.report_problem(ctx, order.id, BUYER, "damaged", "The lens is cracked")
    won = closed(order, "won", order.total.amount_minor)

    _, rows = await emitting(engine, handle(ctx, won))
    _, again = await emitting(engine, handle(ctx, won))

    assert (await stored_order(ctx, order.id)).status is Status.COMPLETED
    assert [row.event_type for row in rows] == [P + "completed.v1"]
    assert data(rows[0])["confirmed_by"] == "system"
    assert again == []
