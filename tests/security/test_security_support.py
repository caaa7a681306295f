"""Support's security regressions (#16), end to end through the gateway: an agent cannot
decide what payments cannot do (a refund above what is left, credit above the order's total)
and a refund before the capture voids the hold. What support's own API refuses (an absurd
amount, free text that is not plain text, a damaged cursor) is tested on its app, in
services/support/tests/integration/test_support_http_inputs.py."""

import uuid

from e2e_helpers import authorized_order, eventually, ok, resolve_when_known, settled

EUR = "EUR"
TOTAL = 12_500  # e2e_helpers.listing_body's price


def eur(amount_minor: int) -> dict:
    return {"amount_minor": amount_minor, "currency": EUR}


def captured_order(seller, buyer) -> dict:
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    eventually(lambda: ok(buyer.get(f"/v1/orders/{order['id']}/payment"))["state"] == "captured")
    return order


def question(buyer, order_id: str, subject: str = "About my order") -> dict:
    """A new ticket from the buyer (support learns of the order a moment after orders)."""

    def opened():
        answer = buyer.post(
            "/v1/tickets", {"order_id": order_id, "subject": subject, "body": "Please help"}
        )
        return answer.status_code == 201 and answer.json()

    return eventually(opened)


def resolve(agent, ticket_id: str, action: str, amount: dict | None = None):
    body = {"action": action, "note": "Sorry for the trouble"}
    if amount is not None:
        body["amount"] = amount
    return agent.post(f"/v1/tickets/{ticket_id}/resolve", body)


def resolved_when_known(
    agent, ticket_id: str, action: str, amount: dict | None = None, *, captured: bool = False
):
    body = {"action": action, "note": "Sorry for the trouble"}
    if amount is not None:
        body["amount"] = amount
    return resolve_when_known(agent, ticket_id, body, captured=captured)


def notification_kinds(buyer, order_id: str) -> list[str]:
    items = ok(buyer.get("/v1/me/notifications"))["items"]
    return sorted(n["kind"] for n in items if n.get("order_id") == order_id)


def test_a_refund_above_what_is_left_is_refused_and_nothing_moves(
    operator, seller, buyer, new_principal
):
    agent = new_principal("agent")
    order = captured_order(seller, buyer)
    first = question(buyer, order["id"])
    ok(resolved_when_known(agent, first["id"], "partial_refund", eur(10_000), captured=True))
    eventually(
        lambda: (
            (p := ok(buyer.get(f"/v1/orders/{order['id']}/payment")))["refunds"]
            and p["refunds"][0]["state"] == "succeeded"
        )
    )
    eventually(lambda: "refunded.buyer" in notification_kinds(buyer, order["id"]))
    ledger_before = ok(operator.get(f"/v1/ledger/orders/{order['id']}"))
    told_before = notification_kinds(buyer, order["id"])

    second = question(buyer, order["id"], "Still broken")
    refused = resolve(agent, second["id"], "refund", eur(5_000))

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["refundable"] == eur(TOTAL - 10_000)
    assert ok(agent.get(f"/v1/tickets/{second['id']}"))["status"] != "resolved"
    settled(operator)  # whatever the refused resolution set in motion has now happened
    assert notification_kinds(buyer, order["id"]) == told_before
    assert ok(operator.get(f"/v1/ledger/orders/{order['id']}")) == ledger_before
    assert ok(buyer.get(f"/v1/orders/{order['id']}/payment"))["refunded"] == eur(10_000)


def test_a_refund_of_an_order_never_captured_is_accepted_and_voids_the_hold(
    seller, buyer, new_principal
):
    agent = new_principal("agent")
    order = authorized_order(seller, buyer)
    ticket = question(buyer, order["id"])

    resolved = ok(resolved_when_known(agent, ticket["id"], "refund"))

    assert resolved["status"] == "resolved"
    payment = eventually(
        lambda: (
            (p := ok(buyer.get(f"/v1/orders/{order['id']}/payment")))["state"] == "voided" and p
        ),
        timeout=45,
    )
    assert payment["captured"] == eur(0)


def test_credit_above_the_orders_total_is_refused_with_what_can_still_be_credited(
    operator, seller, buyer, new_principal
):
    agent = new_principal("agent")
    order = captured_order(seller, buyer)
    first = question(buyer, order["id"])

    too_much = resolved_when_known(agent, first["id"], "credit", eur(TOTAL + 1), captured=True)
    assert too_much.status_code == 409, too_much.text
    assert too_much.json()["creditable"] == eur(TOTAL)

    ok(resolve(agent, first["id"], "credit", eur(10_000)))
    second = question(buyer, order["id"], "Late again")
    refused = resolve(agent, second["id"], "credit", eur(5_000))
    assert refused.status_code == 409, refused.text
    assert refused.json()["creditable"] == eur(TOTAL - 10_000)
    balances = eventually(lambda: ok(buyer.get("/v1/me/credits"))["balances"])
    settled(operator)
    assert ok(buyer.get("/v1/me/credits"))["balances"] == balances == [eur(10_000)]
