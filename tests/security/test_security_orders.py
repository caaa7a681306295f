"""Orders' security regressions (#16), end to end through the gateway: a carrier reports only
its own parcels and learns nothing of others' (the carrier its token names, as the gateway
forwards it); the seller does not read why the buyer's card was declined (the reason comes
from the card); and an order whose hold support released cannot be shipped for nothing.
What orders alone decides is tested on its app: free text, prices, dates, currencies and
list cursors in services/orders/tests/integration/test_orders_security_inputs.py; a tracking
number in use, a report sent again and an old parcel's report in
services/orders/tests/integration/test_orders_security_carriers.py."""

import json
import uuid

from e2e_helpers import (
    Api,
    authorized_order,
    eventually,
    listing_body,
    now_of,
    ok,
    order_body,
    order_status,
    resolve_when_known,
)


def tracking() -> str:
    return f"TRK{uuid.uuid4().hex[:10].upper()}"


def carrier_of(operator: Api, gateway_url: str, name: str) -> Api:
    """A carrier principal speaking for `name` (the conftest's carriers speak for DHL)."""
    answer = operator.post(
        "/v1/principals",
        {
            "role": "carrier",
            "name": f"{name} integration",
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "carrier": name,
        },
    )
    assert answer.status_code == 201, answer.text
    return Api(gateway_url, answer.json()["token"], answer.json())


def shipped_order(seller, buyer, number: str, carrier: str = "DHL") -> dict:
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    ok(
        seller.post(
            f"/v1/orders/{order['id']}/ship", {"carrier": carrier, "tracking_number": number}
        )
    )
    return order


def scan(carrier, operator, number: str, status: str, occurred_at=None):
    return carrier.post(
        "/v1/carrier-events",
        {
            "tracking_number": number,
            "status": status,
            "occurred_at": (occurred_at or now_of(operator)).isoformat(),
        },
    )


def problem_without_instance(answer) -> dict:
    body = answer.json()
    body.pop("instance", None)
    return body


# --- 1. carriers bound to their parcels ----------------------------------------------------


def test_a_carrier_cannot_deliver_another_carriers_parcel_nor_learn_it_exists(
    operator, gateway_url, seller, buyer, carrier
):
    number = tracking()
    order = shipped_order(seller, buyer, number)  # a DHL parcel
    ups = carrier_of(operator, gateway_url, "UPS")

    foreign = scan(ups, operator, number, "delivered")
    unknown = scan(ups, operator, tracking(), "delivered")

    assert foreign.status_code == unknown.status_code == 404, foreign.text
    assert problem_without_instance(foreign) == problem_without_instance(unknown)
    assert ok(buyer.get(f"/v1/orders/{order['id']}"))["status"] == "shipped"
    assert ok(scan(carrier, operator, number, "delivered"))["status"] == "delivered"


# --- 2. the buyer's card is the buyer's business -------------------------------------------


def test_the_seller_does_not_see_why_the_buyers_card_was_declined(seller, buyer, operator):
    listing = ok(seller.post("/v1/listings", listing_body()))
    placed = ok(buyer.post("/v1/orders", order_body(listing["id"], "pm_card_chargeCustomerFail")))
    as_buyer = eventually(order_status(buyer, placed["id"], "cancelled"))
    (declined,) = [e for e in as_buyer["timeline"] if e["detail"].startswith("The card was not")]
    reason = declined["detail"].split(":", 1)[1].strip()
    assert reason  # the buyer (and staff) are told why

    as_seller = ok(seller.get(f"/v1/orders/{placed['id']}"))
    assert reason not in json.dumps(as_seller)
    assert any(e["detail"] == "The card was not authorized" for e in as_seller["timeline"])
    listed = ok(seller.get("/v1/orders?role=seller"))
    assert reason not in json.dumps(listed)
    assert reason in json.dumps(ok(operator.get(f"/v1/orders/{placed['id']}")))


def ticket_about(buyer, order_id: str) -> dict:
    """The buyer's ticket on the order (support learns of the order a moment after orders)."""

    def opened():
        answer = buyer.post(
            "/v1/tickets", {"order_id": order_id, "subject": "Not needed", "body": "Please refund"}
        )
        return answer.status_code == 201 and answer.json()

    return eventually(opened)


def test_an_order_support_refunded_before_shipment_is_cancelled_and_cannot_be_shipped(
    seller, buyer, new_principal
):
    agent = new_principal("agent")
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    ticket = ticket_about(buyer, order["id"])

    ok(resolve_when_known(agent, ticket["id"], {"action": "refund", "note": "Refunded"}))

    cancelled = eventually(order_status(buyer, order["id"], "cancelled"), timeout=45)
    assert cancelled["payment"]["state"] == "voided"
    assert any(
        entry["kind"] == "cancelled" and entry["detail"].startswith("Support refunded")
        for entry in cancelled["timeline"]
    )
    assert any("Support released the hold" in step["message"] for step in cancelled["steps"])
    shipped = seller.post(
        f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": tracking()}
    )
    assert shipped.status_code == 409, shipped.text
    assert ok(buyer.get(f"/v1/orders/{order['id']}/payment"))["state"] == "voided"
