"""Support's resolutions act, end to end through the gateway on the manual clock: a reship
sends a disputed order back to the seller (shipped again, captured once), `no_action` ends a
dispute and pays the seller, `cancel` before shipment cancels the order and voids the hold;
an agent sees what is possible on a ticket and is refused (409) the rest; a resolved ticket
closes by itself after three quiet days (and the order's view shows it closed)."""

import uuid
from datetime import datetime

from e2e_helpers import (
    advance,
    authorized_order,
    delivered,
    eventually,
    kinds,
    now_of,
    ok,
    opened_ticket,
    order_status,
    resolve_when_known,
)

TOTAL = {"amount_minor": 12_500, "currency": "EUR"}  # e2e_helpers.listing_body's price


def tracking_number() -> str:
    return f"TRK{uuid.uuid4().hex[:10].upper()}"


def payment_of(api, order_id):
    return ok(api.get(f"/v1/orders/{order_id}/payment"))


def payment_state(api, order_id, state):
    return lambda: (p := payment_of(api, order_id))["state"] == state and p


def disputed_order(seller, buyer, agent, number):
    """Shipped with `number`, captured, and reported damaged: support's ticket on it."""
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    eventually(payment_state(buyer, order["id"], "captured"))
    ok(
        buyer.post(
            f"/v1/orders/{order['id']}/report-problem",
            {"reason": "damaged", "details": "the lens is cracked"},
        )
    )

    def ticket():
        found = ok(agent.get(f"/v1/orders/{order['id']}/tickets"))["items"]
        return next((t for t in found if t["reason"] == "damaged"), None)

    return eventually(order_status(buyer, order["id"], "disputed")), eventually(ticket)


def resolution(action):
    return {"action": action, "note": "Sorry for the trouble"}


def test_a_reshipped_dispute_goes_back_to_the_seller_who_ships_again_captured_once(
    operator, seller, buyer, carrier, new_principal
):
    agent = new_principal("agent")
    order, ticket = disputed_order(seller, buyer, agent, tracking_number())
    first_ship_by = datetime.fromisoformat(order["ship_by"])
    advance(operator, days=1)  # the buyer waited a day for support

    ok(resolve_when_known(agent, ticket["id"], resolution("reship"), captured=True))

    reshipped = eventually(order_status(seller, order["id"], "accepted"))
    ship_by = datetime.fromisoformat(reshipped["ship_by"])
    # a fresh window from now (on a calendar with holidays it may end where the first did)
    assert ship_by > now_of(operator) and ship_by >= first_ship_by
    assert "reship_requested" in kinds(reshipped)
    assert "ship" in reshipped["allowed_actions"]
    number = tracking_number()
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    eventually(order_status(buyer, order["id"], "shipped"))
    delivered(carrier, operator, number)
    eventually(order_status(buyer, order["id"], "delivered"))
    ok(buyer.post(f"/v1/orders/{order['id']}/confirm-receipt"))

    payment = eventually(payment_state(buyer, order["id"], "released"))
    assert len(payment["captures"]) == 1
    assert (payment["captured"], payment["refunded"]["amount_minor"]) == (TOTAL, 0)
    assert ok(operator.get(f"/v1/ledger/orders/{order['id']}"))["balanced"] is True


def test_a_dispute_closed_with_no_action_pays_the_seller_and_the_ticket_closes_later(
    operator, seller, buyer, new_principal
):
    agent = new_principal("agent")
    order, ticket = disputed_order(seller, buyer, agent, tracking_number())

    resolved = ok(resolve_when_known(agent, ticket["id"], resolution("no_action"), captured=True))
    assert (resolved["status"], resolved["possible_resolutions"]) == ("resolved", [])

    eventually(order_status(seller, order["id"], "completed"))
    payment = eventually(payment_state(seller, order["id"], "released"))
    fee = payment["platform_fee"]["amount_minor"]
    assert payment["released"]["amount_minor"] == TOTAL["amount_minor"] - fee > 0
    assert payment["refunded"]["amount_minor"] == 0

    advance(operator, days=2)  # still within the quiet period: a message would reopen it
    assert ok(buyer.get(f"/v1/tickets/{ticket['id']}"))["status"] == "resolved"
    advance(operator, days=1, hours=1)
    closed = eventually(
        lambda: (t := ok(buyer.get(f"/v1/tickets/{ticket['id']}")))["status"] == "closed" and t
    )
    assert closed["resolution"]["action"] == "no_action"
    # the order's view follows (support.ticket_closed), no longer showing it resolved
    eventually(
        lambda: (
            [t["status"] for t in ok(buyer.get(f"/v1/orders/{order['id']}"))["tickets"]]
            == ["closed"]
        )
    )


def test_an_agent_sees_what_is_possible_is_refused_the_rest_and_cancel_voids_the_hold(
    seller, buyer, new_principal
):
    agent = new_principal("agent")
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    question = opened_ticket(buyer, order["id"], "Cancel?", "I no longer need it")
    # accepted, authorized, nothing captured: no reship, return or partial refund yet
    possible = ["refund", "credit", "cancel", "no_action"]  # rebook: event tickets only
    view = eventually(
        lambda: (
            (t := ok(agent.get(f"/v1/tickets/{question['id']}")))
            and sorted(t["possible_resolutions"]) == sorted(possible)
            and t
        )
    )
    assert view["status"] == "open"

    def refused_as_accepted():
        answer = agent.post(f"/v1/tickets/{question['id']}/resolve", resolution("reship"))
        assert answer.status_code == 409, answer.text
        return answer.json().get("order_status") == "accepted" and answer

    refused = eventually(refused_as_accepted)  # support hears of the acceptance a moment late
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert sorted(problem["possible_resolutions"]) == sorted(possible)
    assert "accepted" in problem["detail"]
    assert ok(agent.get(f"/v1/tickets/{question['id']}"))["status"] == "open"

    ok(resolve_when_known(agent, question["id"], resolution("cancel")))

    cancelled = eventually(order_status(buyer, order["id"], "cancelled"))
    assert cancelled["cancel_reason"] == "cancelled_by_support"
    payment = eventually(payment_state(buyer, order["id"], "voided"), timeout=45)
    assert (payment["captured"]["amount_minor"], payment["refunds"]) == (0, [])
    number = tracking_number()
    shipped = seller.post(
        f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}
    )
    assert shipped.status_code == 409, shipped.text
