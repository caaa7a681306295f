"""Escrow on SQLite and PostgreSQL, against a real localstripe: goodwill credits spent on a later
order, authorizations renewed before they lapse, refunds decided while a capture is under way,
and reconciliation with Stripe. After every scenario the order's ledger balances."""

from datetime import timedelta

import pytest

from contracts.orders import OrderCancelled, OrderReturned, OrderShipped
from payments.cards import metadata_of
from payments.domain import OperationKind, PaymentRefused, PaymentState
from payments.handlers import renew_expiring_authorizations
from payments.reconcile import reconcile

from payments_test_helpers import (
    NOW,
    authorized_order,
    balances,
    completed,
    deliver,
    deliver_together,
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


async def test_a_goodwill_credit_is_spent_on_the_buyers_next_order(ctx, engine, stripe_cards):
    first = await shipped_order(ctx)
    credit = resolved(first, "credit", eur(1500), ticket_id="tkt_late")
    await deliver(ctx, credit)
    await deliver(ctx, credit)  # a replay credits nothing more
    issued = [data for kind, data in await events_of(engine, first) if kind == "credit_issued.v1"]
    assert [(c["amount"]["amount_minor"], c["balance"]["amount_minor"]) for c in issued] == [
        (1500, 1500)
    ]

    second = new_order_id()
    await deliver(ctx, placed(second, quantity=1))  # 42.00 EUR, 15.00 of it from credit
    await settle(ctx)
    payment = await stored_payment(ctx, second)
    assert (payment.credit_applied_minor, payment.card_minor) == (1500, 2700)
    intent = await stripe_cards.client.v1.payment_intents.retrieve_async(payment.payment_intent_id)
    assert intent.amount == 2700
    async with ctx.db.unit_of_work() as uow:
        assert await uow.credit_balances.balance("usr_buyer", "EUR") == (0, 2)

    await deliver(ctx, OrderShipped(**fact(second), total=eur(4200)))
    await settle(ctx)
    assert await balances(ctx, second) == {
        "buyer_card": -2700,
        "buyer_credit:usr_buyer": -1500,
        "escrow": 4200,
    }
    assert await balances(ctx, first) == {
        "buyer_card": -8400,
        "buyer_credit:usr_buyer": 1500,
        "escrow": 8400,
        "goodwill": -1500,
    }


async def test_credit_set_aside_for_a_cancelled_order_goes_back_to_the_buyer(ctx):
    first = await shipped_order(ctx)
    await deliver(ctx, resolved(first, "credit", eur(1000), ticket_id="tkt_goodwill"))
    second = new_order_id()
    await deliver(ctx, placed(second, quantity=1))
    await settle(ctx)
    await deliver(
        ctx,
        OrderCancelled(
            order_id=second,
            buyer_id="usr_buyer",
            seller_id="usr_seller",
            reason="too slow",
            cancelled_by="buyer",
            cancelled_at=NOW,
        ),
    )
    await settle(ctx)
    async with ctx.db.unit_of_work() as uow:
        balance, _ = await uow.credit_balances.balance("usr_buyer", "EUR")
    assert balance == 1000
    assert await balances(ctx, second) == {}


async def test_an_authorization_about_to_lapse_is_renewed_before_it_does(
    ctx, engine, stripe_cards, clock
):
    order_id = await authorized_order(ctx)
    old = (await stored_payment(ctx, order_id)).payment_intent_id

    assert await renew_expiring_authorizations(ctx, NOW + timedelta(days=5)) == 0
    later = NOW + timedelta(days=6, hours=1)
    clock.set(later)
    assert await renew_expiring_authorizations(ctx, later) == 1
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.payment_intent_id != old
    assert payment.expires_at == later + ctx.authorization_hold
    replaced = await stripe_cards.client.v1.payment_intents.retrieve_async(old)
    assert replaced.status == "canceled"
    renewed = [d for k, d in await events_of(engine, order_id) if k == "authorization_renewed.v1"]
    assert renewed[0]["replaced_payment_intent_id"] == old
    # the new hold is the one captured when the order ships
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(8400)))
    await settle(ctx)
    captured = await stripe_cards.client.v1.payment_intents.retrieve_async(
        payment.payment_intent_id
    )
    assert captured.status == "succeeded"
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "escrow": 8400}


async def test_an_order_shipped_while_its_renewal_waits_is_captured_once_and_holds_nothing_else(
    ctx, engine, stripe_cards, clock
):
    order_id = await authorized_order(ctx)
    later = NOW + timedelta(days=6, hours=1)
    clock.set(later)
    assert await renew_expiring_authorizations(ctx, later) == 1
    # the order ships before the worker has asked Stripe for the new hold
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(8400)))
    await settle(ctx)
    await deliver(ctx, completed(order_id))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.RELEASED
    intents = await stripe_cards.client.v1.payment_intents.list_async({"limit": 100})
    of_order = [
        i async for i in intents.auto_paging_iter() if metadata_of(i).get("order_id") == order_id
    ]
    assert sorted(i.status for i in of_order) in (["succeeded"], ["canceled", "succeeded"])
    assert [i.id for i in of_order if i.status == "succeeded"] == [payment.payment_intent_id]
    kinds = [kind for kind, _ in await events_of(engine, order_id)]
    assert kinds.count("captured.v1") == 1
    assert kinds[-1] == "released.v1"
    assert (await balances(ctx, order_id)).get("escrow", 0) == 0


async def test_a_refund_decided_while_the_capture_is_under_way_is_made_when_it_lands(
    ctx, engine, stripe_cards
):
    order_id = await authorized_order(ctx)
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(8400)))  # capture queued
    refund = resolved(order_id, "refund")
    await deliver(ctx, refund)
    await deliver(ctx, refund)  # a replay while it waits
    assert (await stored_payment(ctx, order_id)).state is PaymentState.AUTHORIZED

    await settle(ctx)  # the capture lands, then the refund is made

    payment = await stored_payment(ctx, order_id)
    assert payment.state is PaymentState.REFUNDED
    kinds = [kind for kind, _ in await events_of(engine, order_id)]
    assert kinds == ["authorized.v1", "captured.v1", "refunded.v1"]
    refunds = await stripe_cards.client.v1.refunds.list_async(
        {"payment_intent": payment.payment_intent_id}
    )
    assert [r.amount for r in refunds.data] == [8400]
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "refunds": 8400}


async def test_an_order_shipped_and_returned_in_one_batch_is_captured_then_refunded(ctx, engine):
    """The consumer hands payments both facts in one unit of work: the refund cannot wait for
    a capture that is only decided in the same, uncommitted, batch."""
    order_id = await authorized_order(ctx)
    await deliver_together(
        ctx,
        OrderShipped(**fact(order_id), total=eur(8400)),
        OrderReturned(**fact(order_id), total=eur(8400)),
    )
    await settle(ctx)

    assert (await stored_payment(ctx, order_id)).state is PaymentState.REFUNDED
    kinds = [kind for kind, _ in await events_of(engine, order_id)]
    assert kinds == ["authorized.v1", "captured.v1", "refunded.v1"]


async def test_a_refund_that_could_not_be_made_after_the_capture_is_refused_at_once(ctx):
    order_id = await authorized_order(ctx)
    await deliver(ctx, OrderShipped(**fact(order_id), total=eur(8400)))
    await deliver(ctx, resolved(order_id, "partial_refund", eur(5000), ticket_id="tkt_a"))
    with pytest.raises(PaymentRefused, match=r"34\.00 EUR is still refundable"):
        await deliver(ctx, resolved(order_id, "partial_refund", eur(5000), ticket_id="tkt_b"))
    await settle(ctx)

    payment = await stored_payment(ctx, order_id)
    assert (payment.state, payment.refunded_minor) == (PaymentState.PARTIALLY_REFUNDED, 5000)


class DecliningRenewals:
    """Stripe for everything, except that a renewal is declined."""

    def __init__(self, cards):
        self.cards = cards

    async def perform(self, operation, payment_method, customer_id=None):
        if operation.kind is OperationKind.REAUTHORIZE:
            return await self.cards.perform(operation, "pm_card_chargeCustomerFail", customer_id)
        return await self.cards.perform(operation, payment_method)

    async def look_up(self, operation):
        return await self.cards.look_up(operation)


async def test_an_authorization_that_cannot_be_renewed_is_escalated_once(
    ctx, engine, stripe_cards, clock
):
    order_id = await authorized_order(ctx)
    ctx.cards = DecliningRenewals(stripe_cards)
    later = NOW + timedelta(days=6, hours=1)
    clock.set(later)
    await renew_expiring_authorizations(ctx, later)
    await settle(ctx)
    assert await renew_expiring_authorizations(ctx, later + timedelta(hours=1)) == 0

    expiring = [d for k, d in await events_of(engine, order_id) if k == "authorization_expiring.v1"]
    assert len(expiring) == 1
    assert expiring[0]["expires_at"].startswith("2026-11-30")
    assert expiring[0]["reason"]
    # The order stays open, waiting for the buyer's new card (#18).
    lapsed = [d for k, d in await events_of(engine, order_id) if k == "hold_lapsed.v1"]
    assert len(lapsed) == 1 and lapsed[0]["buyer_id"]
    assert (await stored_payment(ctx, order_id)).state is PaymentState.HOLD_LAPSED


async def test_reconciliation_agrees_with_stripe_until_someone_refunds_behind_our_back(
    ctx, stripe_cards
):
    kept = await shipped_order(ctx)
    await deliver(ctx, resolved(kept, "partial_refund", eur(1000), ticket_id="tkt_reconciled"))
    await settle(ctx)
    tampered = await shipped_order(ctx)

    differences = await reconcile(ctx.db, stripe_cards)
    assert [d for d in differences if d.order_id in (kept, tampered)] == []

    intent = (await stored_payment(ctx, tampered)).payment_intent_id
    await stripe_cards.client.v1.refunds.create_async({"payment_intent": intent, "amount": 500})
    differences = await reconcile(ctx.db, stripe_cards)
    assert [(d.order_id, d.what) for d in differences if d.order_id in (kept, tampered)] == [
        (tampered, "refunded: ledger 0.00 EUR, Stripe 5.00 EUR")
    ]
