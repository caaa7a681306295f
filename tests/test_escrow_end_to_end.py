"""Escrow end to end through the gateway, on the real broker, PostgreSQL and localstripe:
capture on shipment, release on confirmation, void on cancellation, refunds and credits decided
by support, Stripe's webhooks, and a payments service killed between Stripe's capture and its
own commit that captures once, not twice."""

import json
import time
import uuid

import httpx
import stripe

from contracts import Money
from contracts.support import TicketResolved
from devstack.stripe_proxy import StripeProxy
from payments.webhooks import stripe_signature
from servicekit.testing import body_of, publish, read_topic

from e2e_helpers import (
    authorized_order,
    delivered,
    eventually,
    now_of,
    ok,
    order_body,
    order_status,
)

WEBHOOK_SECRET = "whsec_development"  # the development stack's default


def ship(seller, order):
    """Accept and ship with a tracking number; answers the tracking number."""
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    return number


def payment_state(api, order_id, state):
    def check():
        payment = api.get(f"/v1/orders/{order_id}/payment").json()
        return payment if payment.get("state") == state else None

    return check


def charge_of(platform, payment_intent_id):
    client = stripe_client(platform)
    charge = client.v1.payment_intents.retrieve(payment_intent_id).latest_charge
    return client.v1.charges.retrieve(charge if isinstance(charge, str) else charge.id)


def stripe_client(platform):
    return stripe.StripeClient("sk_test_development", base_addresses={"api": platform.stripe_base})


def resolved(operator, order, action, amount=None):
    """An agent's decision, as support publishes it on `support.events`."""
    return TicketResolved(
        ticket_id=f"tkt_{uuid.uuid4().hex[:12]}",
        order_id=order["id"],
        buyer_id=order["buyer_id"],
        seller_id=order["seller_id"],
        action=action,
        amount=amount,
        note="the item arrived damaged",
        resolved_by="usr_agent",
        resolved_at=now_of(operator),
    )


def eur(amount_minor):
    return Money(amount_minor=amount_minor, currency="EUR")


def test_shipping_captures_and_confirming_pays_the_seller_less_the_fee(
    operator, seller, buyer, carrier, platform
):
    order = authorized_order(seller, buyer)
    number = ship(seller, order)

    captured = eventually(payment_state(buyer, order["id"], "captured"))
    assert captured["captured"] == order["total"]
    assert [c["state"] for c in captured["captures"]] == ["succeeded"]
    intent = stripe_client(platform).v1.payment_intents.retrieve(captured["payment_intent_id"])
    assert intent.status == "succeeded"
    view = eventually(
        lambda: (
            (o := buyer.get(f"/v1/orders/{order['id']}").json())["payment"]["state"] == "captured"
            and o
        )
    )
    assert view["payment"]["captured"] == order["total"]

    delivered(carrier, operator, number)
    ok(buyer.post(f"/v1/orders/{order['id']}/confirm-receipt"))
    released = eventually(payment_state(seller, order["id"], "released"))
    total = order["total"]["amount_minor"]
    fee = total * 500 // 10_000
    assert released["platform_fee"]["amount_minor"] == fee
    assert released["released"]["amount_minor"] == total - fee

    ledger = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    assert ledger["balanced"] is True
    assert ledger["balances"]["EUR"] == {
        "buyer_card": -total,
        "platform_fees": fee,
        f"seller_payable:{seller.id}": total - fee,
    }
    # the ledger is for operators; the order's parties see the payment instead
    assert buyer.get(f"/v1/ledger/orders/{order['id']}").status_code == 403


def test_a_cancelled_order_releases_the_hold_on_the_card(seller, buyer, platform):
    order = authorized_order(seller, buyer)
    ok(buyer.post(f"/v1/orders/{order['id']}/cancel", {"reason": "found it cheaper"}))

    voided = eventually(payment_state(buyer, order["id"], "voided"))
    intent = stripe_client(platform).v1.payment_intents.retrieve(voided["payment_intent_id"])
    assert intent.status == "canceled"
    view = eventually(
        lambda: (
            (o := buyer.get(f"/v1/orders/{order['id']}").json())["payment"]["state"] == "voided"
            and o
        )
    )
    assert "nothing was charged" in json.dumps(view["timeline"])


async def test_support_refunds_part_and_credits_the_rest_for_the_next_order(
    operator, seller, buyer, platform
):
    order = authorized_order(seller, buyer)
    ship(seller, order)
    eventually(payment_state(buyer, order["id"], "captured"))

    decision = resolved(operator, order, "partial_refund", eur(1500))
    # redelivered: the refund is made once
    await publish(platform.bootstrap, decision, source="support", time=now_of(operator), times=2)
    refunded = eventually(
        lambda: (
            (p := ok(buyer.get(f"/v1/orders/{order['id']}/payment")))["refunds"]
            and p["refunds"][0]["state"] == "succeeded"
            and p
        )
    )
    assert refunded["state"] == "partially_refunded"
    assert refunded["refunded"] == {"amount_minor": 1500, "currency": "EUR"}
    assert len(refunded["refunds"]) == 1
    assert charge_of(platform, refunded["payment_intent_id"]).amount_refunded == 1500

    credit = resolved(operator, order, "credit", eur(700))
    await publish(platform.bootstrap, credit, source="support", time=now_of(operator))
    credits = eventually(lambda: (c := ok(buyer.get("/v1/me/credits")))["balances"] and c)
    assert credits["balances"] == [{"amount_minor": 700, "currency": "EUR"}]
    assert credits["entries"][0]["order_id"] == order["id"]

    # the credit pays for part of the buyer's next order; the card holds the rest
    second = ok(buyer.post("/v1/orders", order_body(order["listing_id"])))
    eventually(order_status(buyer, second["id"], "awaiting_seller"))
    payment = ok(buyer.get(f"/v1/orders/{second['id']}/payment"))
    assert payment["credit_applied"] == {"amount_minor": 700, "currency": "EUR"}
    assert payment["authorized"]["amount_minor"] == second["total"]["amount_minor"] - 700
    assert ok(buyer.get("/v1/me/credits"))["balances"] == [{"amount_minor": 0, "currency": "EUR"}]


def signed(body, at):
    payload = json.dumps(body).encode()
    return payload, {"Stripe-Signature": stripe_signature(payload, WEBHOOK_SECRET, at)}


def test_stripe_webhooks_are_verified_deduplicated_and_turn_chargebacks_into_events(
    operator, seller, buyer, platform, gateway_url, new_principal
):
    order = authorized_order(seller, buyer)
    ship(seller, order)
    captured = eventually(payment_state(buyer, order["id"], "captured"))
    dispute = {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "type": "charge.dispute.created",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"dp_{uuid.uuid4().hex[:12]}",
                "amount": captured["captured"]["amount_minor"],
                "currency": "eur",
                "payment_intent": captured["payment_intent_id"],
                "reason": "product_not_received",
                "status": "needs_response",
            }
        },
    }
    now = now_of(operator)
    anonymous = httpx.Client(base_url=gateway_url)

    payload, headers = signed(dispute, now)
    answers = [
        anonymous.post("/v1/webhooks/stripe", content=payload, headers=headers) for _ in range(3)
    ]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]

    forged = anonymous.post(
        "/v1/webhooks/stripe", content=payload.replace(b"needs_response", b"won"), headers=headers
    )
    assert forged.status_code == 400
    assert forged.headers["content-type"] == "application/problem+json"
    stale_payload, stale_headers = signed(dispute | {"id": "evt_stale"}, now.replace(year=2020))
    stale = anonymous.post("/v1/webhooks/stripe", content=stale_payload, headers=stale_headers)
    assert stale.status_code == 400
    assert "too old" in stale.json()["detail"]

    disputed = ok(buyer.get(f"/v1/orders/{order['id']}/payment"))
    assert [(d["status"], d["reason"]) for d in disputed["disputes"]] == [
        ("open", "product_not_received")
    ]
    ledger = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    assert ledger["balances"]["EUR"]["chargebacks"] == captured["captured"]["amount_minor"]
    # the chargeback is an event: the seller is told, support opens an urgent ticket
    eventually(
        lambda: any(
            n["kind"] == "chargeback_opened.seller"
            for n in ok(seller.get("/v1/me/notifications"))["items"]
        )
    )
    agent = new_principal("agent")
    ticket = eventually(
        lambda: [
            t
            for t in ok(agent.get(f"/v1/orders/{order['id']}/tickets"))["items"]
            if t["reason"] == "chargeback"
        ]
    )
    assert ticket[0]["priority"] == "urgent"


async def test_payments_killed_after_stripe_captured_and_before_its_commit_captures_once(
    platform, seller, buyer, operator
):
    order = authorized_order(seller, buyer)
    intent_id = ok(buyer.get(f"/v1/orders/{order['id']}/payment"))["payment_intent_id"]
    running = platform.child("payments")

    def kill_payments_before_it_reads_the_answer() -> bool:
        doomed.kill()
        return False

    proxy = StripeProxy(platform.stripe_base, kill_payments_before_it_reads_the_answer)
    running.stop()
    doomed = platform.service("payments", STRIPE_API_BASE=proxy.url)
    platform.replace_child(running, doomed)
    doomed.start()
    try:
        ship(seller, order)
        assert proxy.captured.wait(timeout=60), "payments never asked for a capture"
    finally:
        proxy.close()
    # Stripe captured; payments died without recording it.
    assert stripe_client(platform).v1.payment_intents.retrieve(intent_id).status == "succeeded"

    restarted = platform.service("payments")
    platform.replace_child(doomed, restarted)
    restarted.start()

    payment = eventually(payment_state(buyer, order["id"], "captured"), timeout=60)
    assert [c["state"] for c in payment["captures"]] == ["succeeded"]
    records = await read_topic(platform.bootstrap, "payments.events", expect=1, timeout=10)
    captures = [
        r
        for r in records
        if r.key == order["id"].encode() and body_of(r)["type"] == "marketplace.payment.captured.v1"
    ]
    assert len(captures) == 1
    charge = charge_of(platform, intent_id)
    assert (charge.captured, charge.amount) == (True, order["total"]["amount_minor"])
    ledger = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    assert ledger["balances"]["EUR"] == {
        "buyer_card": -order["total"]["amount_minor"],
        "escrow": order["total"]["amount_minor"],
    }
