"""Holds that survive (#18): the card is kept on a Customer for the order and renewals reuse
it off-session; 3-D Secure is a state, not a decline; a renewal that fails leaves the order
open, waiting for the buyer's new card."""

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from contracts.orders import OrderCancelled
from payments import ledger
from payments.cards import authorization_request
from payments.domain import (
    CardOutcome,
    OperationKind,
    PaymentRefused,
    PaymentState,
    end_before_capture,
    record_authorization,
    record_renewal,
    record_void,
    renew,
    replace_card,
)
from payments.handlers import renew_expiring_authorizations
from payments.webhooks import WebhookEvent, receive

from payments_test_helpers import (
    HOLD,
    NOW,
    authorized,
    balances,
    deliver,
    done,
    events_of,
    fact,
    new_order_id,
    new_payment,
    only_operation,
    placed,
    settle,
    stored_payment,
)

THREE_D_SECURE = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}


# --- the rules ---------------------------------------------------------------------------


def test_a_renewal_asks_stripe_off_session_with_the_orders_customer():
    payment = authorized(customer_id="cus_1", payment_intent_id="pi_1")
    request = authorization_request(renew(payment, NOW), payment.payment_method, "cus_1")
    assert request["customer"] == "cus_1"
    assert request["off_session"] is True and request["confirm"] is True
    assert "setup_future_usage" not in request


def test_the_first_authorization_keeps_the_card_for_off_session_use():
    payment = new_payment()
    operation = payment.operation(OperationKind.AUTHORIZE, 100, NOW)
    request = authorization_request(operation, "pm_1", "cus_1")
    assert request["customer"] == "cus_1"
    assert request["setup_future_usage"] == "off_session"
    assert "off_session" not in request


def test_requires_action_is_a_state_not_a_decline():
    payment = new_payment(state=PaymentState.AUTHORIZING)
    operation = payment.operation(OperationKind.AUTHORIZE, 10_000, NOW)
    outcome = CardOutcome(
        succeeded=False,
        payment_intent_id="pi_3ds",
        customer_id="cus_1",
        next_action='{"type": "use_stripe_sdk"}',
    )
    decision = record_authorization(payment, done(operation, outcome), outcome, NOW, HOLD)
    assert decision.payment.state is PaymentState.REQUIRES_ACTION
    assert decision.payment.next_action == '{"type": "use_stripe_sdk"}'
    assert decision.payment.failure_reason is None
    assert decision.entries == () and decision.events == ()

    # the buyer authenticates: authorized, the hold booked
    approved = CardOutcome(succeeded=True, payment_intent_id="pi_3ds")
    after = record_authorization(decision.payment, operation, approved, NOW, HOLD)
    assert after.payment.state is PaymentState.AUTHORIZED and after.payment.next_action is None
    assert after.payment.customer_id == "cus_1"


def test_an_order_ended_while_waiting_for_3ds_cancels_the_intent_and_moves_no_hold():
    waiting = authorized(state=PaymentState.REQUIRES_ACTION, payment_intent_id="pi_3ds")
    void = only_operation(end_before_capture(waiting, None, NOW))
    assert void.kind is OperationKind.VOID and void.payment_intent_id == "pi_3ds"
    decision = record_void(replace(waiting, ended=True), void, NOW)
    assert decision.payment.state is PaymentState.VOIDED
    assert all(line.amount_minor == 0 for e in decision.entries for line in e.lines)


def test_a_failed_renewal_lapses_the_hold_and_only_then_takes_a_new_card():
    payment = authorized(customer_id="cus_1")
    with pytest.raises(PaymentRefused):
        replace_card(payment, "pm_new", NOW)
    lapsed = record_renewal(payment, CardOutcome(succeeded=False, reason="no"), NOW, HOLD)
    assert lapsed.state is PaymentState.HOLD_LAPSED
    decision = replace_card(lapsed, "pm_new", NOW)
    assert decision.payment.payment_method == "pm_new"
    assert only_operation(decision).kind is OperationKind.REPLACE_CARD
    renewed = record_renewal(
        decision.payment, CardOutcome(succeeded=True, payment_intent_id="pi_new"), NOW, HOLD
    )
    assert renewed.state is PaymentState.AUTHORIZED and renewed.payment_intent_id == "pi_new"


# --- against the Stripe-compatible server ------------------------------------------------


async def _card(ctx, number: str) -> str:
    method = await ctx.cards.client.v1.payment_methods.create_async(
        {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    return method.id


async def _asked(stripe_connect_base: str, intent_id: str) -> dict:
    async with httpx.AsyncClient(base_url=stripe_connect_base) as http:
        answer = await http.get(f"/_connect/payment_intents/{intent_id}/request")
        answer.raise_for_status()
        return answer.json()


async def test_a_hold_is_renewed_off_session_on_the_orders_customer(
    ctx, engine, clock, stripe_connect_base
):
    card = await _card(ctx, "4242424242424242")  # a real PaymentMethod, not a shorthand
    order_id = new_order_id()
    await deliver(ctx, placed(order_id, payment_method=card))
    await settle(ctx)
    first = await stored_payment(ctx, order_id)
    assert first.state is PaymentState.AUTHORIZED and first.customer_id
    intent = await ctx.cards.client.v1.payment_intents.retrieve_async(first.payment_intent_id)
    assert intent.customer == first.customer_id
    assert intent.setup_future_usage == "off_session"
    assert (await ctx.cards.client.v1.payment_methods.retrieve_async(card)).customer == (
        first.customer_id
    )

    later = NOW + timedelta(days=6, hours=1)
    clock.set(later)
    assert await renew_expiring_authorizations(ctx, later) == 1
    await settle(ctx)

    renewed = await stored_payment(ctx, order_id)
    assert renewed.state is PaymentState.AUTHORIZED
    assert renewed.payment_intent_id != first.payment_intent_id
    assert renewed.reauthorizations == 1
    asked = await _asked(stripe_connect_base, renewed.payment_intent_id)
    assert asked["customer"] == first.customer_id and asked["off_session"] == "true"
    kinds = [k for k, _ in await events_of(engine, order_id)]
    assert "authorization_renewed.v1" in kinds and "hold_lapsed.v1" not in kinds
    await balances(ctx, order_id)  # the order's lines sum to zero


async def test_a_card_asking_for_3ds_waits_then_a_webhook_authorizes_it(ctx, engine):
    card = await _card(ctx, "4000002760003184")  # requires 3-D Secure
    order_id = new_order_id()
    await deliver(ctx, placed(order_id, payment_method=card))
    await settle(ctx)
    waiting = await stored_payment(ctx, order_id)
    assert waiting.state is PaymentState.REQUIRES_ACTION and waiting.next_action
    kinds = [k for k, _ in await events_of(engine, order_id)]
    assert "authorization_failed.v1" not in kinds

    # the buyer authenticates in the client (localstripe's stand-in for Stripe.js)
    client = ctx.cards.client
    intent = await client.v1.payment_intents.retrieve_async(waiting.payment_intent_id)
    raw = await client.raw_request_async(
        "post",
        f"/v1/payment_intents/{intent.id}/_authenticate",
        client_secret=intent.client_secret,
        success="true",
    )
    assert client.deserialize(raw, api_mode="V1").status == "requires_capture"
    event = WebhookEvent(
        "evt_" + order_id,
        "payment_intent.amount_capturable_updated",
        int(NOW.timestamp()),
        {"object": {"id": intent.id, "status": "requires_capture", "object": "payment_intent"}},
    )
    assert await receive(ctx.db, event, NOW, ctx.terms)

    authorized_now = await stored_payment(ctx, order_id)
    assert authorized_now.state is PaymentState.AUTHORIZED and authorized_now.next_action is None
    kinds = [k for k, _ in await events_of(engine, order_id)]
    assert kinds.count("authorized.v1") == 1
    held = await balances(ctx, order_id)
    assert authorized_now.card_minor in [
        v for k, v in _flat(held) if ledger.AUTHORIZATION_HOLD in k
    ]


def _flat(balances):
    """(key, amount) pairs of `ledger.balances`, whatever its nesting."""
    for key, value in balances.items():
        if isinstance(value, dict):
            yield from ((f"{key}:{k}", v) for k, v in _flat(value))
        else:
            yield str(key), value


async def test_an_order_cancelled_while_waiting_for_3ds_cancels_the_intent(ctx):
    card = await _card(ctx, "4000002760003184")
    order_id = new_order_id()
    await deliver(ctx, placed(order_id, payment_method=card))
    await settle(ctx)
    waiting = await stored_payment(ctx, order_id)
    assert waiting.state is PaymentState.REQUIRES_ACTION

    cancelled = OrderCancelled(
        **fact(order_id), reason="payment_window", cancelled_by="system", cancelled_at=NOW
    )
    await deliver(ctx, cancelled)
    await settle(ctx)
    assert (await stored_payment(ctx, order_id)).state is PaymentState.VOIDED
    intent = await ctx.cards.client.v1.payment_intents.retrieve_async(waiting.payment_intent_id)
    assert intent.status == "canceled"


async def test_a_renewal_reuses_the_card_the_intent_holds_not_the_checkout_shorthand(
    ctx, clock, stripe_connect_base
):
    # Checkout may name a card by a test shorthand (pm_card_visa): Stripe makes a PaymentMethod
    # of its own from it, and only that one is on the order's Customer for an off-session reuse.
    order_id = new_order_id()
    await deliver(ctx, placed(order_id, payment_method="pm_card_visa"))
    await settle(ctx)
    first = await stored_payment(ctx, order_id)
    intent = await ctx.cards.client.v1.payment_intents.retrieve_async(first.payment_intent_id)
    held = intent.payment_method if isinstance(intent.payment_method, str) else None
    assert held and held != "pm_card_visa"
    assert first.payment_method == held

    later = NOW + timedelta(days=6, hours=1)
    clock.set(later)
    assert await renew_expiring_authorizations(ctx, later) == 1
    await settle(ctx)

    renewed = await stored_payment(ctx, order_id)
    assert renewed.state is PaymentState.AUTHORIZED
    asked = await _asked(stripe_connect_base, renewed.payment_intent_id)
    assert asked["payment_method"] == held
