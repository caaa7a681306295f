"""Each order's journey up to shipment through the gateway, on the real broker and database,
with the manual clock for the time-based rules: the happy path, the seller declining or backing
out, the buyer cancelling, who may do what, and the seller's deadlines."""

from e2e_helpers import (
    ADDRESS,
    advance,
    authorized_order,
    carrier_says,
    eventually,
    kinds,
    ok,
    order_events,
    order_status,
    ship,
    step_states,
    tracking,
)


def test_the_happy_path_from_order_to_review(operator, seller, buyer, carrier):
    order = authorized_order(seller, buyer)
    assert order["allowed_actions"] == ["cancel", "change_address", "message"]

    accepted = ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    assert accepted["status"] == "accepted"
    assert step_states(accepted) == ["done", "current", "upcoming"]
    assert accepted["steps"][1]["expected_by"] == accepted["ship_by"]
    assert "Usually within 2-4 business days" in accepted["steps"][1]["message"]
    assert accepted["allowed_actions"] == ["decline", "message", "ship"]

    shipped, number = ship(seller, accepted)
    assert shipped["shipment"]["tracking_number"] == number
    assert step_states(shipped) == ["done", "done", "current"]

    assert ok(carrier_says(carrier, operator, number, "in_transit"))["status"] == "shipped"
    assert ok(carrier_says(carrier, operator, number, "delivered"))["status"] == "delivered"
    delivered = ok(buyer.get(f"/v1/orders/{order['id']}"))
    assert set(delivered["allowed_actions"]) == {
        "confirm_receipt",
        "exchange",
        "message",
        "report_problem",
        "return",
    }
    assert "Confirm it is as described" in delivered["steps"][2]["message"]

    completed = ok(buyer.post(f"/v1/orders/{order['id']}/confirm-receipt"))
    assert completed["status"] == "completed"
    assert step_states(completed) == ["done", "done", "done"]
    review = buyer.post(f"/v1/orders/{order['id']}/review", {"rating": 5, "text": "As described"})
    assert review.status_code == 201
    again = buyer.post(f"/v1/orders/{order['id']}/review", {"rating": 1, "text": "Changed mind"})
    assert again.status_code == 409
    # payments' capture is noted whenever it lands (before or after the scans): not compared
    timeline = kinds(ok(buyer.get(f"/v1/orders/{order['id']}")))
    assert [kind for kind in timeline if kind != "payment_captured"] == [
        "placed",
        "payment_authorized",
        "accepted",
        "shipped",
        "in_transit",
        "delivered",
        "completed",
        "reviewed",
    ]


def test_a_seller_declines_and_the_stock_comes_back(seller, buyer):
    order = authorized_order(seller, buyer, quantity_available=1)
    declined = ok(seller.post(f"/v1/orders/{order['id']}/decline", {"reason": "Sold elsewhere"}))
    assert declined["status"] == "declined"
    assert step_states(declined) == ["skipped", "skipped", "skipped"]
    assert seller.get(f"/v1/listings/{order['listing_id']}").json()["quantity_available"] == 1


async def test_a_seller_backing_out_after_accepting_protects_the_buyer(platform, seller, buyer):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    backed_out = ok(seller.post(f"/v1/orders/{order['id']}/decline", {"reason": "Broke it"}))
    assert backed_out["status"] == "cancelled"
    assert backed_out["cancel_reason"] == "seller_backed_out"
    assert "alternative or your money back" in backed_out["steps"][1]["message"]
    types = await order_events(platform, order["id"], 10)
    assert "marketplace.order.seller_backed_out.v1" in types
    assert "marketplace.order.cancelled.v1" in types


def test_a_buyer_cancels_or_changes_the_address_only_before_shipment(seller, buyer):
    order = authorized_order(seller, buyer)
    moved = ADDRESS | {"line1": "2 Other Street", "city": "Hamburg", "postal_code": "20095"}
    changed = ok(buyer.put(f"/v1/orders/{order['id']}/shipping-address", moved))
    assert changed["shipping_address"]["city"] == "Hamburg"
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    ship(seller, order)

    refused = buyer.post(f"/v1/orders/{order['id']}/cancel", {"reason": "Too slow"})
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["order_status"] == "shipped"
    assert "cancel" not in problem["allowed_actions"]
    assert "report_problem" in problem["allowed_actions"]
    assert buyer.put(f"/v1/orders/{order['id']}/shipping-address", moved).status_code == 409

    other = authorized_order(seller, buyer)
    cancelled = ok(buyer.post(f"/v1/orders/{other['id']}/cancel", {"reason": "Found it cheaper"}))
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "buyer_cancelled"


def test_who_may_do_what(new_principal, seller, buyer):
    order = authorized_order(seller, buyer)
    assert buyer.post(f"/v1/orders/{order['id']}/accept").status_code == 403
    assert seller.post(f"/v1/orders/{order['id']}/cancel", {"reason": "x"}).status_code == 403
    stranger = new_principal("seller")
    assert stranger.post(f"/v1/orders/{order['id']}/accept").status_code == 404
    other_buyer = new_principal("buyer")
    assert other_buyer.post(f"/v1/orders/{order['id']}/cancel", {"reason": "x"}).status_code == 404
    bad = seller.post(f"/v1/orders/{order['id']}/decline", {"why": "no"})
    assert bad.status_code == 422 and bad.json()["errors"]
    assert ok(buyer.get(f"/v1/orders/{order['id']}"))["status"] == "awaiting_seller"


async def test_a_seller_who_does_not_accept_in_time_loses_the_order(
    platform, operator, seller, buyer
):
    order = authorized_order(seller, buyer, quantity_available=1)
    advance(operator, days=5)  # the acceptance window is two business days
    cancelled = eventually(order_status(buyer, order["id"], "cancelled"))
    assert cancelled["cancel_reason"] == "acceptance_window_missed"
    assert "did not confirm in time" in cancelled["steps"][0]["message"]
    assert seller.get(f"/v1/listings/{order['listing_id']}").json()["quantity_available"] == 1
    assert seller.post(f"/v1/orders/{order['id']}/accept").status_code == 409


async def test_no_tracking_by_the_ship_by_date_is_a_breach(platform, operator, seller, buyer):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    advance(operator, days=6)  # two business days of handling have passed
    late = ok(buyer.get(f"/v1/orders/{order['id']}"))
    assert late["status"] == "accepted"
    assert kinds(late)[-1] == "shipment_overdue"
    assert "we opened a ticket" in late["steps"][1]["message"].lower()
    advance(operator, days=1)
    assert kinds(ok(buyer.get(f"/v1/orders/{order['id']}"))).count("shipment_overdue") == 1
    types = await order_events(platform, order["id"], 10)
    assert types.count("marketplace.order.shipment_overdue.v1") == 1


async def test_an_order_never_shipped_is_cancelled_after_the_grace_with_the_hold_voided(
    platform, operator, seller, buyer
):
    order = authorized_order(seller, buyer, quantity_available=1)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    advance(operator, days=6)  # ship-by (two business days of handling) has passed
    eventually(lambda: "shipment_overdue" in kinds(ok(buyer.get(f"/v1/orders/{order['id']}"))))
    advance(operator, days=7)  # and so have three business days' grace
    cancelled = eventually(order_status(buyer, order["id"], "cancelled"))
    assert cancelled["cancel_reason"] == "shipment_window_missed"
    assert "even after the grace" in cancelled["steps"][1]["message"]
    voided = eventually(
        lambda: (
            (seen := ok(buyer.get(f"/v1/orders/{order['id']}")))["payment"]["state"] == "voided"
            and seen
        )
    )
    assert not (voided["payment"]["captured"] or {}).get("amount_minor")  # nothing charged
    assert seller.get(f"/v1/listings/{order['listing_id']}").json()["quantity_available"] == 1
    assert (
        seller.post(
            f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": tracking()}
        ).status_code
        == 409
    )
    types = await order_events(platform, order["id"], 10)
    assert "marketplace.order.cancelled.v1" in types
