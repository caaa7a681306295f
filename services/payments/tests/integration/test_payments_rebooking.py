"""Rebooking's money (#20) on SQLite and PostgreSQL against the Stripe-compatible server: a
seller backing out of an event's ticket leaves the hold in place for support; the
replacement order takes over the same PaymentIntent (no second charge), its capture takes at
most what the buyer authorized, the platform covers the rest and the backing-out seller pays
for it; a hold support decides not to rebook is voided."""

from datetime import timedelta

from contracts.orders import EventFacts, OrderCancelled, OrderSellerBackedOut, OrderShipped
from payments.domain import PaymentState

from payments_test_helpers import (
    NOW,
    authorized_order,
    balances,
    deliver,
    eur,
    events_of,
    fact,
    new_order_id,
    placed,
    resolved,
    settle,
    stored_payment,
)

EVENT = EventFacts(
    event_id="evt_1",
    name="Gig",
    venue="Hall",
    kind="ticket",
    starts_at=NOW + timedelta(days=5),
    ends_at=NOW + timedelta(days=5, hours=3),
    utc_offset_minutes=60,
)


async def backed_out(ctx) -> str:
    order_id = await authorized_order(ctx)  # 8400 EUR on the card
    await deliver(ctx, OrderSellerBackedOut(**fact(order_id), reason="lost it", event=EVENT))
    cancelled = OrderCancelled(
        order_id=order_id,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        reason="seller_backed_out",
        cancelled_by="seller",
        cancelled_at=NOW,
        event=EVENT,
    )
    await deliver(ctx, cancelled)
    await settle(ctx)
    return order_id


async def test_the_replacement_is_paid_from_the_first_hold_and_the_platform_covers_the_rest(
    ctx, engine, stripe_cards
):
    first_id = await backed_out(ctx)
    first = await stored_payment(ctx, first_id)
    assert first.state is PaymentState.AUTHORIZED and first.kept_for_rebook  # not voided
    intent_id = first.payment_intent_id

    new_id = new_order_id()
    dearer = placed(new_id, quantity=1).model_copy(
        update={"seller_id": "usr_new", "total": eur(10_000), "replaces": first_id}
    )
    await deliver(ctx, dearer)
    await settle(ctx)
    new = await stored_payment(ctx, new_id)
    assert (new.state, new.payment_intent_id, new.cover_minor) == (
        PaymentState.AUTHORIZED,
        intent_id,
        1600,
    )
    assert [kind for kind, _ in await events_of(engine, new_id)] == ["authorized.v1"]

    shipped = OrderShipped(**fact(new_id) | {"seller_id": "usr_new"}, total=eur(10_000))
    await deliver(ctx, shipped)
    await settle(ctx)

    charge = await stripe_cards.charge_state(intent_id)
    assert (charge.status, charge.amount_captured_minor) == ("succeeded", 8400)  # no more
    assert await balances(ctx, new_id) == {
        "buyer_card": -8400,
        "escrow": 10_000,
        "platform_rebooking_cover": -1600,
    }
    assert await balances(ctx, first_id) == {
        "platform_rebooking_cover": 1600,
        "seller_payable:usr_seller": -1600,
    }
    assert (await stored_payment(ctx, first_id)).state is PaymentState.REBOOKED


async def test_a_hold_support_does_not_rebook_is_voided_and_cannot_pay_a_rebooking_later(
    ctx, engine, stripe_cards
):
    first_id = await backed_out(ctx)
    await deliver(ctx, resolved(first_id, "no_action"))
    await settle(ctx)

    first = await stored_payment(ctx, first_id)
    assert first.state is PaymentState.VOIDED
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(first.payment_intent_id)
    assert intent.status == "canceled"
    assert await balances(ctx, first_id) == {}

    late_id = new_order_id()
    late = placed(late_id, quantity=1).model_copy(update={"replaces": first_id})
    await deliver(ctx, late)
    assert (await stored_payment(ctx, late_id)).state is PaymentState.FAILED
    assert [kind for kind, _ in await events_of(engine, late_id)] == ["authorization_failed.v1"]


async def test_when_nothing_suits_supports_refund_releases_the_kept_hold(ctx, stripe_cards):
    first_id = await backed_out(ctx)
    await deliver(ctx, resolved(first_id, "refund"))
    await settle(ctx)

    first = await stored_payment(ctx, first_id)
    assert first.state is PaymentState.VOIDED
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(first.payment_intent_id)
    assert intent.status == "canceled"
    assert await balances(ctx, first_id) == {}


async def test_a_rebook_orders_could_not_place_keeps_the_hold_until_the_refund_voids_it(
    ctx, stripe_cards
):
    first_id = await backed_out(ctx)
    await deliver(ctx, resolved(first_id, "rebook"))  # orders placed nothing (rebook_failed)
    await settle(ctx)
    kept = await stored_payment(ctx, first_id)
    assert kept.state is PaymentState.AUTHORIZED and kept.kept_for_rebook

    await deliver(ctx, resolved(first_id, "refund"))  # the reopened ticket's next decision
    await settle(ctx)

    first = await stored_payment(ctx, first_id)
    assert first.state is PaymentState.VOIDED
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(first.payment_intent_id)
    assert intent.status == "canceled"
