"""Escrow on SQLite and PostgreSQL, against a real localstripe: capture when the order ships,
void when it ends before, release to the seller less the fee, and refunds (full, partial, after
the payout, before any capture). After every scenario the order's ledger balances."""

import pytest

from contracts.orders import OrderCancelled, OrderReturned, OrderSellerBackedOut, OrderShipped
from payments.domain import OperationKind, OperationState, PaymentRefused, PaymentState

from payments_test_helpers import (
    NOW,
    authorized_order,
    balances,
    completed,
    deliver,
    eur,
    events_of,
    fact,
    new_order_id,
    placed,
    resolved,
    settle,
    shipped_order,
    stored_payment,
)


async def test_shipping_captures_the_authorization_into_escrow(ctx, engine, stripe_cards):
    order_id = await shipped_order(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.CAPTURED
    assert payment.captured_minor == 8400
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(payment.payment_intent_id)
    assert intent.status == "succeeded"
    kinds = [kind for kind, _ in await events_of(engine, order_id)]
    assert kinds == ["authorized.v1", "captured.v1"]
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "escrow": 8400}

    # the same shipment again (a redelivery) captures nothing more
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(8400)))
    await settle(ctx)
    assert [kind for kind, _ in await events_of(engine, order_id)] == kinds


async def test_a_replacement_shipment_is_not_captured_again(ctx, engine):
    order_id = await shipped_order(ctx)
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(8400), replacement=True))
    await settle(ctx)
    assert (await stored_payment(ctx, order_id)).captured_minor == 8400
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "escrow": 8400}


async def test_a_cancelled_order_has_its_authorization_voided(ctx, engine, stripe_cards):
    order_id = await authorized_order(ctx)
    cancelled = OrderCancelled(
        order_id=order_id,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        reason="changed my mind",
        cancelled_by="buyer",
        cancelled_at=NOW,
    )
    await deliver(ctx, cancelled)
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.VOIDED
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(payment.payment_intent_id)
    assert intent.status == "canceled"
    events = await events_of(engine, order_id)
    assert [kind for kind, _ in events] == ["authorized.v1", "voided.v1"]
    assert events[1][1]["amount"] == {"amount_minor": 8400, "currency": "EUR"}
    assert await balances(ctx, order_id) == {}


async def test_an_order_ended_before_its_card_was_asked_never_reaches_stripe(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, OrderSellerBackedOut(**fact(order_id), reason="sold elsewhere"))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.VOIDED
    assert payment.payment_intent_id is None
    async with ctx.db.unit_of_work() as uow:
        operations = await uow.operations.of_order(order_id)
    assert [(op.kind, op.state) for op in operations] == [
        (OperationKind.AUTHORIZE, OperationState.SKIPPED)
    ]
    events = await events_of(engine, order_id)
    assert [kind for kind, _ in events] == ["voided.v1"]
    assert events[0][1]["amount"]["amount_minor"] == 0


async def test_completion_releases_escrow_to_the_seller_less_the_fee(ctx, engine):
    order_id = await shipped_order(ctx)
    await deliver(ctx, completed(order_id))
    await deliver(ctx, completed(order_id))  # a replay pays nobody twice
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.RELEASED
    assert (payment.released_minor, payment.fee_minor) == (7980, 420)
    released = [data for kind, data in await events_of(engine, order_id) if kind == "released.v1"]
    assert len(released) == 1
    assert released[0]["amount"]["amount_minor"] == 7980
    assert released[0]["platform_fee"]["amount_minor"] == 420
    assert await balances(ctx, order_id) == {
        "buyer_card": -8400,
        "platform_fees": 420,
        "seller_payable:usr_seller": 7980,
    }


async def test_a_return_refunds_everything_to_the_card(ctx, engine, stripe_cards):
    order_id = await shipped_order(ctx)
    await deliver(ctx, OrderReturned(**fact(order_id), total=eur(8400)))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.REFUNDED
    charge = await stripe_cards.charge_state(payment.payment_intent_id)
    assert charge.amount_refunded_minor == 8400
    refunded = [data for kind, data in await events_of(engine, order_id) if kind == "refunded.v1"]
    assert len(refunded) == 1
    assert refunded[0]["full"] is True
    assert refunded[0]["total_refunded"]["amount_minor"] == 8400
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "refunds": 8400}


async def test_a_partial_refund_from_support_is_made_once_and_the_rest_is_released(
    ctx, engine, stripe_cards
):
    order_id = await shipped_order(ctx)
    resolution = resolved(order_id, "partial_refund", eur(2000), ticket_id="tkt_damaged")
    for _ in range(3):  # the resolution redelivered: one refund
        await deliver(ctx, resolution)
        await settle(ctx)
    await deliver(ctx, completed(order_id))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    charge = await stripe_cards.charge_state(payment.payment_intent_id)
    assert charge.amount_refunded_minor == 2000
    refunded = [data for kind, data in await events_of(engine, order_id) if kind == "refunded.v1"]
    assert [(r["amount"]["amount_minor"], r["full"]) for r in refunded] == [(2000, False)]
    # the seller is paid what is left in escrow, less the fee on it
    assert (payment.released_minor, payment.fee_minor) == (6080, 320)
    assert await balances(ctx, order_id) == {
        "buyer_card": -8400,
        "platform_fees": 320,
        "refunds": 2000,
        "seller_payable:usr_seller": 6080,
    }


async def test_a_refund_after_the_payout_is_clawed_back_from_the_seller(ctx, engine):
    order_id = await shipped_order(ctx)
    await deliver(ctx, completed(order_id))
    await deliver(ctx, resolved(order_id, "refund", ticket_id="tkt_not_as_described"))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.REFUNDED
    refunded = [data for kind, data in await events_of(engine, order_id) if kind == "refunded.v1"]
    assert refunded[0]["clawed_back"] == {"amount_minor": 7980, "currency": "EUR"}
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "refunds": 8400}


@pytest.mark.parametrize(
    ("resolution", "why"),
    [
        (resolved("-", "partial_refund", eur(9000)), "is still refundable"),
        (resolved("-", "partial_refund"), "needs an amount"),
        (resolved("-", "credit", eur(0)), "positive"),
    ],
)
async def test_a_resolution_that_cannot_apply_is_refused_and_changes_nothing(
    ctx, engine, resolution, why
):
    order_id = await shipped_order(ctx)
    before = await balances(ctx, order_id)
    with pytest.raises(PaymentRefused, match=why):
        await deliver(ctx, resolution.model_copy(update={"order_id": order_id}))
    assert await balances(ctx, order_id) == before


async def test_a_refund_before_anything_was_captured_voids_the_hold(ctx, engine, stripe_cards):
    # It used to be refused (and dead-lettered) while the buyer was told of a refund.
    order_id = await authorized_order(ctx)
    await deliver(ctx, resolved(order_id, "refund", ticket_id="tkt_early"))
    await deliver(ctx, resolved(order_id, "refund", ticket_id="tkt_early"))  # a replay
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.VOIDED
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(payment.payment_intent_id)
    assert intent.status == "canceled"
    events = await events_of(engine, order_id)
    assert [kind for kind, _ in events] == ["authorized.v1", "voided.v1"]
    assert events[1][1]["amount"] == {"amount_minor": 8400, "currency": "EUR"}
    assert events[1][1]["reason"].startswith("Support ticket tkt_early")
    assert await balances(ctx, order_id) == {}


async def test_a_partial_refund_before_anything_was_captured_is_refused(ctx):
    order_id = await authorized_order(ctx)
    with pytest.raises(PaymentRefused, match="nothing was captured"):
        await deliver(ctx, resolved(order_id, "partial_refund", eur(1000)))
    with pytest.raises(PaymentRefused, match=r"only the whole 84\.00 EUR"):
        await deliver(ctx, resolved(order_id, "refund", eur(1000), ticket_id="tkt_part"))
    assert (await stored_payment(ctx, order_id)).state is PaymentState.AUTHORIZED
