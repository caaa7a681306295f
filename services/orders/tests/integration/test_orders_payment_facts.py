"""Payments' facts on an order, on SQLite and PostgreSQL: they fill the order view, a full
refund ends a return, and a hold released under an open order cancels it once."""

import pytest

from contracts import Money
from contracts.payments import PaymentCaptured, PaymentRefunded, PaymentReleased, PaymentVoided
from orders import domain, handlers
from orders.domain import (
    Actor,
    PaymentState,
    Status,
    TransitionRefused,
)

from orders_service_test_helpers import (
    BUYER,
    SELLER,
    data,
    emitting,
    handle,
    order_through,
    ship_order,
    stored_listing,
    stored_order,
)
from orders_service_test_helpers import ORDER_EVENT as P
from orders_test_helpers import CALENDAR, NOW, RULES

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
