"""Holds that survive (#18), end to end on the real broker, PostgreSQL and the
Stripe-compatible server: a hold about to lapse after six days is renewed off-session on the
order's Customer, the order ships on the renewed hold, and the ledger balances."""

import httpx
import stripe

from e2e_helpers import advance, authorized_order, eventually, ok


def test_a_hold_renewed_after_six_days_reauthorizes_off_session_and_the_ledger_balances(
    operator, seller, buyer, platform
):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    first = ok(buyer.get(f"/v1/orders/{order['id']}/payment"))
    client = stripe.StripeClient(
        "sk_test_development", base_addresses={"api": platform.stripe_base}
    )
    kept = client.v1.payment_intents.retrieve(first["payment_intent_id"])
    assert kept.customer and kept.setup_future_usage == "off_session"

    advance(operator, days=6, hours=1)  # within a day of the seven-day hold lapsing

    def renewed():
        payment = ok(buyer.get(f"/v1/orders/{order['id']}/payment"))
        changed = payment["payment_intent_id"] != first["payment_intent_id"]
        return payment if changed and payment["state"] == "authorized" else None

    payment = eventually(renewed)
    intent = client.v1.payment_intents.retrieve(payment["payment_intent_id"])
    assert intent.customer == kept.customer and intent.status == "requires_capture"
    asked = httpx.get(f"{platform.stripe_base}/_connect/payment_intents/{intent.id}/request").json()
    assert asked["off_session"] == "true" and asked["customer"] == kept.customer
    # the replaced hold is released, not left on the buyer's card
    eventually(
        lambda: client.v1.payment_intents.retrieve(first["payment_intent_id"]).status == "canceled"
    )

    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": "TRK1"}))
    captured = eventually(
        lambda: (
            (p := ok(buyer.get(f"/v1/orders/{order['id']}/payment")))["state"] == "captured" and p
        )
    )
    assert captured["payment_intent_id"] == intent.id
    ledger = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    assert ledger["balanced"] is True
    assert ledger["balances"]["EUR"]["escrow"] == order["total"]["amount_minor"]
