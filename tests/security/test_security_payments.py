"""Payments' security regressions (#16), end to end through the gateway and the broker: a
Stripe-Signature with two timestamps is refused at the gateway's webhook endpoint, a "ticket
resolved" event for an order payments does not know (or beyond what the order holds) is
dead-lettered without paying anything, a refund before the capture voids the hold, and a
seller does not see why the buyer's card was declined.

The service's tests in services/payments/tests/integration/test_payments_security_webhooks.py
and test_payments_security_operations.py cover what payments decides alone: a dispute that
does not fit the charge moves no money, a dispute after a full or partial refund takes no more
than escrow still holds, payments refusing to start with the development webhook secret
outside the dev stack, and a Stripe operation that fails for good set aside while the others
go on."""

import asyncio
import json
import uuid
from datetime import timedelta

import httpx
import pytest

from contracts import Money
from contracts.support import TicketResolved
from payments.webhooks import stripe_signature
from servicekit.testing import publish

from e2e_helpers import (
    Api,
    authorized_order,
    eventually,
    listing_body,
    now_of,
    ok,
    order_body,
)

WEBHOOK_SECRET = "whsec_development"  # accepted because the dev stack says it is one
TOTAL = 12_500  # e2e_helpers.listing_body's price


def resolution(order_id: str, buyer_id: str, action: str, amount_minor: int | None, operator):
    return TicketResolved(
        ticket_id=f"tkt_{uuid.uuid4().hex[:12]}",
        order_id=order_id,
        buyer_id=buyer_id,
        seller_id="usr_seller",
        action=action,  # type: ignore[arg-type]
        amount=Money(amount_minor=amount_minor, currency="EUR") if amount_minor else None,
        note="forged",
        resolved_by="usr_agent",
        resolved_at=now_of(operator),
    )


def test_a_stripe_signature_with_two_timestamps_is_refused(operator, gateway_url):
    """An event signed a month ago, replayed with a fresh time added to its header: Stripe's
    library checked the HMAC against the first `t` (`+<old>` is a number to it), our age
    check took the first `t` that was all digits (`<now>`), so any event ever captured could
    be replayed."""
    now = now_of(operator)
    old = now - timedelta(days=30)
    payload = json.dumps({"id": f"evt_{uuid.uuid4().hex[:16]}", "type": "ping", "data": {}})
    old_signature = stripe_signature(payload.encode(), WEBHOOK_SECRET, old).split(",", 1)[1]
    anonymous = httpx.Client(base_url=gateway_url)

    replayed = anonymous.post(
        "/v1/webhooks/stripe",
        content=payload,
        headers={
            "Stripe-Signature": f"t=+{int(old.timestamp())},t={int(now.timestamp())},"
            f"{old_signature}"
        },
    )

    assert replayed.status_code == 400, replayed.text
    assert replayed.headers["content-type"] == "application/problem+json"
    genuine = anonymous.post(
        "/v1/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": stripe_signature(payload.encode(), WEBHOOK_SECRET, now)},
    )
    assert genuine.status_code == 200, genuine.text


def payments_dead_letters(operator: Api, order_id: str) -> list[dict]:
    letters = ok(operator.get("/v1/ops/dead-letters"))["items"]
    return [
        letter
        for letter in letters
        if letter["key"] == order_id
        and letter["group"] == "payments"
        and letter["origin_topic"] == "support.events"
    ]


@pytest.mark.parametrize(
    ("which_order", "amount_minor", "why"),
    [
        ("unknown", 4_242_424, "has no payment"),
        ("real", 10**15 - 1, f"at most {TOTAL} more can be credited"),
    ],
    ids=["order payments does not know", "more than the order's total"],
)
def test_a_forged_credit_under_supports_name_is_dead_lettered_and_pays_nothing(
    platform, operator, seller, buyer, which_order, amount_minor, why
):
    order_id = (
        f"ord_{uuid.uuid4().hex[:24]}"
        if which_order == "unknown"
        else authorized_order(seller, buyer)["id"]
    )
    forged = resolution(order_id, buyer.id, "credit", amount_minor, operator)
    asyncio.run(publish(platform.bootstrap, forged, source="support", time=now_of(operator)))

    def credited() -> list[dict]:
        return ok(buyer.get("/v1/me/credits"))["balances"]

    eventually(lambda: payments_dead_letters(operator, order_id) or credited(), timeout=60)

    assert credited() == [], "the forged credit was paid"
    (letter,) = payments_dead_letters(operator, order_id)
    assert letter["reason"] == "handler_failed"
    assert why in letter["error"]


def test_a_refund_before_the_capture_voids_the_hold(platform, operator, seller, buyer):
    order = authorized_order(seller, buyer)
    refund = resolution(order["id"], buyer.id, "refund", None, operator)
    asyncio.run(publish(platform.bootstrap, refund, source="support", time=now_of(operator)))

    def voided() -> dict | None:
        payment = ok(buyer.get(f"/v1/orders/{order['id']}/payment"))
        return payment if payment["state"] == "voided" else None

    payment = eventually(voided, timeout=30)
    assert [v["state"] for v in payment["voids"]] == ["succeeded"]
    assert payment["captured"]["amount_minor"] == 0
    assert payments_dead_letters(operator, order["id"]) == []
    ledger = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    assert ledger["balanced"] is True
    assert ledger["balances"]["EUR"] == {}


def test_a_seller_does_not_see_why_the_buyers_card_was_declined(seller, buyer, new_principal):
    listing = ok(seller.post("/v1/listings", listing_body()))
    placed = ok(buyer.post("/v1/orders", order_body(listing["id"], "pm_card_chargeCustomerFail")))

    def failed() -> dict | None:
        payment = buyer.get(f"/v1/orders/{placed['id']}/payment").json()
        return payment if payment.get("state") == "failed" else None

    seen_by_buyer = eventually(failed)
    assert seen_by_buyer["decline_code"] == "card_declined"

    seen_by_seller = ok(seller.get(f"/v1/orders/{placed['id']}/payment"))
    assert seen_by_seller["state"] == "failed"
    assert seen_by_seller["decline_code"] is None
    assert seen_by_seller["failure_reason"] is None
    assert all(
        a["decline_code"] is None and a["failure"] is None for a in seen_by_seller["authorizations"]
    )
    agent = new_principal("agent")
    assert ok(agent.get(f"/v1/orders/{placed['id']}/payment"))["decline_code"] == "card_declined"
