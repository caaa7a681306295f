"""Payments SIGKILLed in the middle of a payout run (#18): Stripe has made the first seller's
transfer and the process dies before recording it. Restarted, payments looks the transfer up
by the payout's id (`transfer_group`) instead of making it again, and pays the others; a
second run pays nobody. The audit: each seller paid exactly once, at Stripe and in our books,
and every order's money where it belongs."""

import contextlib

import httpx
import stripe

from reliability_audit import problems
from reliability_journeys import command, read, run, wait_for

KILLED_AFTER_THE_TRANSFER = "payouts.after_transfer=kill"


def payouts_of(journey):
    return read(journey.seller, "/v1/sellers/me/payouts")["items"]


def test_payments_killed_after_stripe_transferred_pays_each_seller_exactly_once(
    fault_stack, crowd, supervisor
):
    journeys = crowd.journeys(3)
    for journey in journeys:
        account = {"country": "DE", "currency": "EUR"}
        command(journey.seller, "PUT", "/v1/sellers/me/payout-account", account)
    run(crowd, journeys)  # every order released to its seller
    supervisor.arm("payments", MARKETPLACE_FAILPOINTS=KILLED_AFTER_THE_TRANSFER)

    # The run dies in payments with the first transfer made: no answer to trust.
    with contextlib.suppress(httpx.HTTPError):
        crowd.operator.post("/v1/ops/payouts/run", {})
    paid = [("paid",)]
    wait_for(
        journeys,
        lambda journey: [(p["status"],) for p in payouts_of(journey)] == paid or None,
        "paid once",
    )
    command(crowd.operator, "POST", "/v1/ops/payouts/run", {})  # pays nobody again

    assert supervisor.faults_fired == [("payments", KILLED_AFTER_THE_TRANSFER)]
    client = stripe.StripeClient(
        "sk_test_development", base_addresses={"api": fault_stack.stripe_base}
    )
    for journey in journeys:
        (payout,) = payouts_of(journey)
        assert payout["status"] == "paid"
        made = client.v1.transfers.list({"transfer_group": payout["id"]}).data
        assert [(t.amount, t.id) for t in made] == [
            (payout["amount"]["amount_minor"], payout["transfer_id"])
        ], journey.seller.id
        balance = read(journey.seller, "/v1/sellers/me/balance")["balances"][0]
        assert balance["available"]["amount_minor"] == 0
        assert balance["paid_out"]["amount_minor"] == payout["amount"]["amount_minor"]
    assert problems(fault_stack, crowd, journeys) == []
