"""Stripe's webhooks on SQLite and PostgreSQL: only genuine, fresh events are accepted; a
chargeback opens once and closes once however often and in whatever order Stripe sends it."""

import json
import uuid
from datetime import timedelta

import pytest

from payments import webhooks
from payments.webhooks import WebhookRefused

from payments_test_helpers import NOW, balances, events_of, shipped_order, stored_payment

SECRET = "whsec_test"
TOLERANCE = timedelta(minutes=5)


def signed(body: dict, *, at=NOW, secret=SECRET) -> tuple[bytes, str]:
    """`body` as Stripe sends it: JSON with a `Stripe-Signature` of `t=...,v1=HMAC`."""
    payload = json.dumps(body).encode()
    return payload, webhooks.stripe_signature(payload, secret, at)


def dispute_event(payment_intent_id: str, status: str, *, dispute_id: str, amount=8400) -> dict:
    kind = "charge.dispute.created" if status == "needs_response" else "charge.dispute.closed"
    return {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": kind,
        "created": int(NOW.timestamp()),
        "data": {
            "object": {
                "id": dispute_id,
                "object": "dispute",
                "amount": amount,
                "currency": "eur",
                "payment_intent": payment_intent_id,
                "reason": "fraudulent",
                "status": status,
            }
        },
    }


def test_a_genuine_fresh_event_is_accepted():
    payload, signature = signed({"id": "evt_1", "type": "charge.succeeded", "data": {}})
    event = webhooks.verify(payload, signature, SECRET, NOW + timedelta(seconds=30), TOLERANCE)
    assert (event.id, event.type) == ("evt_1", "charge.succeeded")


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (lambda p, s: (p, None), "missing"),
        (lambda p, s: (p.replace(b"evt_1", b"evt_2"), s), "does not match"),
        (lambda p, s: signed(json.loads(p), secret="whsec_other"), "does not match"),
        (lambda p, s: signed(json.loads(p), at=NOW - timedelta(minutes=6)), "too old"),
        (lambda p, s: signed(json.loads(p), at=NOW + timedelta(minutes=6)), "too old"),
        (lambda p, s: (p, "v1=abc"), "does not match|timestamp"),
    ],
    ids=["unsigned", "body changed", "wrong secret", "stale", "from the future", "no time"],
)
def test_a_forged_altered_or_stale_event_is_refused(tamper, why):
    payload, signature = tamper(*signed({"id": "evt_1", "type": "charge.succeeded", "data": {}}))
    with pytest.raises(WebhookRefused, match=why):
        webhooks.verify(payload, signature, SECRET, NOW, TOLERANCE)


async def deliver_webhook(ctx, body):
    payload, signature = signed(body)
    event = webhooks.verify(payload, signature, SECRET, NOW, TOLERANCE)
    return await webhooks.receive(ctx.db, event, NOW)


async def test_a_chargeback_replayed_three_times_opens_one_dispute(ctx, engine):
    order_id = await shipped_order(ctx)
    intent = (await stored_payment(ctx, order_id)).payment_intent_id
    opened = dispute_event(intent, "needs_response", dispute_id="dp_replayed")

    answers = [await deliver_webhook(ctx, opened) for _ in range(3)]

    assert answers == [True, False, False]
    disputes = [d for kind, d in await events_of(engine, order_id) if kind.startswith("dispute")]
    assert [(d["dispute_id"], d["amount"]["amount_minor"]) for d in disputes] == [
        ("dp_replayed", 8400)
    ]
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "chargebacks": 8400}


async def test_a_dispute_closed_before_it_was_heard_opening_still_counts_once(ctx, engine):
    order_id = await shipped_order(ctx)
    intent = (await stored_payment(ctx, order_id)).payment_intent_id
    opened = dispute_event(intent, "needs_response", dispute_id="dp_reordered")
    won = dispute_event(intent, "won", dispute_id="dp_reordered")

    await deliver_webhook(ctx, won)  # Stripe's events arrive in any order
    await deliver_webhook(ctx, opened)

    kinds = [kind for kind, _ in await events_of(engine, order_id) if kind.startswith("dispute")]
    assert kinds == ["dispute_opened.v1", "dispute_closed.v1"]
    # won: the money came back to escrow
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "escrow": 8400}


async def test_a_lost_chargeback_keeps_the_money_with_the_buyer(ctx, engine):
    order_id = await shipped_order(ctx)
    intent = (await stored_payment(ctx, order_id)).payment_intent_id
    await deliver_webhook(ctx, dispute_event(intent, "needs_response", dispute_id="dp_lost"))
    await deliver_webhook(ctx, dispute_event(intent, "lost", dispute_id="dp_lost"))

    closed = [d for kind, d in await events_of(engine, order_id) if kind == "dispute_closed.v1"]
    assert [d["outcome"] for d in closed] == ["lost"]
    assert await balances(ctx, order_id) == {"buyer_card": -8400, "chargebacks": 8400}


async def test_an_event_about_someone_elses_payment_is_recorded_and_ignored(ctx, engine):
    unknown = dispute_event("pi_not_ours", "needs_response", dispute_id="dp_elsewhere")
    assert await deliver_webhook(ctx, unknown) is True
    assert await deliver_webhook(ctx, unknown) is False
    assert await events_of(engine, "pi_not_ours") == []
