"""Seller payouts end to end (#18), through the gateway, on the real broker, databases and the
dev stack's Stripe (the Connect server in front of localstripe): a seller onboards, sells, the
buyer confirms receipt, the operator runs payouts and the seller is paid total less the fee in
one transfer; a second run pays nothing; a refund after the payout is clawed back by reversing
the transfer; the ledger balances with escrow empty."""

import uuid

import stripe

from e2e_helpers import (
    authorized_order,
    delivered,
    eventually,
    ok,
    opened_ticket,
    resolve_when_known,
)


def stripe_client(platform):
    return stripe.StripeClient("sk_test_development", base_addresses={"api": platform.stripe_base})


def ship(seller, order):
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    return number


def payment_in(api, order_id, state):
    def check():
        payment = api.get(f"/v1/orders/{order_id}/payment").json()
        return payment if payment.get("state") == state else None

    return check


def balance_of(seller):
    (balance,) = ok(seller.get("/v1/sellers/me/balance"))["balances"]
    return {name: balance[name]["amount_minor"] for name in ("in_escrow", "available", "paid_out")}


def test_a_seller_is_paid_once_and_a_refund_after_the_payout_is_clawed_back(
    operator, seller, buyer, carrier, new_principal, platform
):
    assert seller.get("/v1/sellers/me/payout-account").status_code == 404
    account = ok(seller.put("/v1/sellers/me/payout-account", {"country": "DE", "currency": "EUR"}))
    assert account["status"] == "active"  # the dev stack's Stripe completes onboarding at once
    assert ok(seller.get("/v1/sellers/me/payout-account"))["account_id"] == account["account_id"]

    order = authorized_order(seller, buyer)
    number = ship(seller, order)
    eventually(payment_in(buyer, order["id"], "captured"))
    total = order["total"]["amount_minor"]
    fee = total * 500 // 10_000
    assert balance_of(seller) == {"in_escrow": total, "available": 0, "paid_out": 0}
    delivered(carrier, operator, number)
    ok(buyer.post(f"/v1/orders/{order['id']}/confirm-receipt"))
    eventually(payment_in(seller, order["id"], "released"))
    assert balance_of(seller) == {"in_escrow": 0, "available": total - fee, "paid_out": 0}

    assert seller.post("/v1/ops/payouts/run", {}).status_code == 403
    run = ok(operator.post("/v1/ops/payouts/run", {}))
    (payout,) = [p for p in run["payouts"] if p["seller_id"] == seller.id]
    assert (payout["status"], payout["amount"]["amount_minor"], payout["order_ids"]) == (
        "paid",
        total - fee,
        [order["id"]],
    )
    again = ok(operator.post("/v1/ops/payouts/run", {}))
    assert [p for p in again["payouts"] if p["seller_id"] == seller.id] == []

    client = stripe_client(platform)
    (transfer,) = client.v1.transfers.list({"destination": account["account_id"]}).data
    assert (transfer.amount, transfer.currency, transfer.transfer_group) == (
        total - fee,
        "eur",
        payout["id"],
    )
    assert balance_of(seller) == {"in_escrow": 0, "available": 0, "paid_out": total - fee}
    listed = ok(seller.get("/v1/sellers/me/payouts", params={"limit": 1}))
    assert [p["id"] for p in listed["items"]] == [payout["id"]]
    ledger = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    assert ledger["balanced"] is True
    assert ledger["balances"]["EUR"] == {
        "buyer_card": -total,
        "payouts": total - fee,
        "platform_fees": fee,
    }

    # The item was not as described: support refunds it after the seller was paid.
    agent = new_principal("agent")
    ticket = opened_ticket(buyer, order["id"], "Not as described", "It is broken.")
    answer = resolve_when_known(
        agent, ticket["id"], {"action": "refund", "note": "broken on arrival"}, captured=True
    )
    assert answer.status_code == 200, answer.text
    eventually(payment_in(buyer, order["id"], "refunded"))
    eventually(lambda: balance_of(seller)["available"] == -(total - fee) or None)

    ok(operator.post("/v1/ops/payouts/run", {}))

    reversed_transfer = client.v1.transfers.retrieve(transfer.id)
    assert (reversed_transfer.amount_reversed, reversed_transfer.reversed) == (total - fee, True)
    assert balance_of(seller) == {"in_escrow": 0, "available": 0, "paid_out": 0}
    (shown,) = ok(seller.get("/v1/sellers/me/payouts"))["items"]
    assert (shown["status"], shown["reversed"]["amount_minor"]) == ("reversed", total - fee)
    ledger = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    assert ledger["balanced"] is True
    assert ledger["balances"]["EUR"] == {"buyer_card": -total, "refunds": total}
