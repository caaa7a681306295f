"""Each order lifecycle through the gateway, on the real broker and database, with the
manual clock for the time-based rules."""

import uuid

from servicekit.testing import body_of, read_topic

from e2e_helpers import (
    ADDRESS,
    advance,
    authorized_order,
    eventually,
    kinds,
    listing_body,
    now_of,
    ok,
    order_body,
    order_status,
    step_states,
)


def tracking() -> str:
    return f"TRK{uuid.uuid4().hex[:10].upper()}"


async def order_events(platform, order_id: str, expect: int) -> list[str]:
    records = await read_topic(platform.bootstrap, "orders.events", expect=10**6, timeout=3)
    return [body_of(r)["type"] for r in records if r.key == order_id.encode()][:expect] or []


def ship(seller, order, number=None):
    number = number or tracking()
    return ok(
        seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number})
    ), number


def carrier_says(carrier, operator, number, status):
    return carrier.post(
        "/v1/carrier-events",
        {
            "tracking_number": number,
            "status": status,
            "occurred_at": now_of(operator).isoformat(),
        },
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
    assert kinds(ok(buyer.get(f"/v1/orders/{order['id']}"))) == [
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


def test_a_failed_delivery_is_tried_again_on_the_buyers_date(operator, seller, buyer, carrier):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    _, number = ship(seller, order)
    failed = ok(carrier_says(carrier, operator, number, "delivery_failed"))
    assert failed["status"] == "delivery_failed" and failed["delivery_attempts"] == 1
    view = ok(buyer.get(f"/v1/orders/{order['id']}"))
    assert "redeliver" in view["allowed_actions"]
    tomorrow = now_of(operator).date().toordinal() + 2
    from datetime import date

    preferred = date.fromordinal(tomorrow).isoformat()
    again = ok(buyer.post(f"/v1/orders/{order['id']}/redeliver", {"preferred_date": preferred}))
    assert again["status"] == "shipped"
    assert again["shipment"]["redelivery_date"] == preferred
    assert ok(carrier_says(carrier, operator, number, "delivered"))["status"] == "delivered"


def test_a_parcel_returned_to_sender_and_a_problem_reported(operator, seller, buyer, carrier):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    _, number = ship(seller, order)
    ok(carrier_says(carrier, operator, number, "delivery_failed"))
    returned = ok(carrier_says(carrier, operator, number, "returned_to_sender"))
    assert returned["status"] == "returned_to_sender"
    disputed = ok(
        buyer.post(
            f"/v1/orders/{order['id']}/report-problem",
            {"reason": "not_received", "details": "Never arrived"},
        )
    )
    assert disputed["status"] == "disputed" and disputed["problem"] == "not_received"
    assert "specialist follows up" in disputed["steps"][2]["message"]
    assert (
        carrier.post(
            "/v1/carrier-events",
            {
                "tracking_number": "NOPE",
                "status": "delivered",
                "occurred_at": now_of(operator).isoformat(),
            },
        ).status_code
        == 404
    )


def test_a_return_within_the_window_and_not_after(operator, seller, buyer, carrier):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    _, number = ship(seller, order)
    ok(carrier_says(carrier, operator, number, "delivered"))
    requested = ok(buyer.post(f"/v1/orders/{order['id']}/return", {"reason": "Too small"}))
    assert requested["status"] == "return_requested"
    assert requested["shipment"]["return_pickup_date"]
    returned = ok(seller.post(f"/v1/orders/{order['id']}/confirm-return"))
    assert returned["status"] == "returned"
    assert step_states(returned)[2] == "skipped"

    late = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{late['id']}/accept"))
    _, number = ship(seller, late)
    ok(carrier_says(carrier, operator, number, "delivered"))
    ok(
        buyer.post(
            f"/v1/orders/{late['id']}/report-problem",
            {"reason": "damaged", "details": "Cracked lens"},
        )
    )
    assert buyer.post(f"/v1/orders/{late['id']}/return", {"reason": "x"}).status_code == 409


def test_an_exchange_ships_a_replacement(operator, seller, buyer, carrier):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    _, number = ship(seller, order)
    ok(carrier_says(carrier, operator, number, "delivered"))
    exchange = ok(
        buyer.post(
            f"/v1/orders/{order['id']}/exchange",
            {"reason": "Wrong size", "note": "A size larger, please"},
        )
    )
    assert exchange["status"] == "exchange_requested"
    replacement, new_number = ship(seller, order)
    assert replacement["status"] == "shipped"
    assert replacement["shipment"]["tracking_number"] == new_number


def test_a_delivered_order_completes_by_itself_after_the_confirmation_window(
    operator, seller, buyer, carrier
):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    _, number = ship(seller, order)
    ok(carrier_says(carrier, operator, number, "delivered"))
    advance(operator, days=2)
    assert ok(buyer.get(f"/v1/orders/{order['id']}"))["status"] == "delivered"
    advance(operator, days=2)
    completed = eventually(order_status(buyer, order["id"], "completed"))
    details = [entry["detail"] for entry in completed["timeline"]]
    assert any("No problem was reported in time" in detail for detail in details)


def test_a_ticket_is_transferred_by_reference_and_confirmed(operator, seller, buyer):
    event_day = now_of(operator).date().toordinal() + 30
    from datetime import date

    order = authorized_order(
        seller,
        buyer,
        fulfilment="transfer",
        handling_days=1,
        event_date=date.fromordinal(event_day).isoformat(),
    )
    assert "change_address" not in order["allowed_actions"]
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    refused = seller.post(
        f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": "T1"}
    )
    assert refused.status_code == 422
    shipped = ok(
        seller.post(f"/v1/orders/{order['id']}/ship", {"transfer_reference": "BOOKING-42"})
    )
    assert "Transferred with reference BOOKING-42" in shipped["steps"][1]["message"]
    assert "return" not in shipped["allowed_actions"]
    assert ok(buyer.post(f"/v1/orders/{order['id']}/confirm-receipt"))["status"] == "completed"


async def test_buyer_and_seller_message_each_other_and_nobody_else_reads_it(
    platform, new_principal, seller, buyer
):
    order = authorized_order(seller, buyer)
    ok(buyer.post(f"/v1/orders/{order['id']}/messages", {"body": "Is it boxed?"}))
    ok(seller.post(f"/v1/orders/{order['id']}/messages", {"body": "Yes, original box."}))
    thread = ok(buyer.get(f"/v1/orders/{order['id']}/messages"))["items"]
    assert [(m["sender_role"], m["body"]) for m in thread] == [
        ("buyer", "Is it boxed?"),
        ("seller", "Yes, original box."),
    ]
    ok(buyer.post(f"/v1/orders/{order['id']}/messages", {"body": "Great, buying."}))
    first = ok(buyer.get(f"/v1/orders/{order['id']}/messages", params={"limit": 2}))
    rest = ok(
        buyer.get(
            f"/v1/orders/{order['id']}/messages",
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    )
    assert [m["body"] for m in first["items"] + rest["items"]] == [
        "Is it boxed?",
        "Yes, original box.",
        "Great, buying.",
    ]
    assert rest["next_cursor"] is None
    assert new_principal("buyer").get(f"/v1/orders/{order['id']}/messages").status_code == 404
    agent = new_principal("agent")
    assert agent.get(f"/v1/orders/{order['id']}/messages").status_code == 200
    assert agent.post(f"/v1/orders/{order['id']}/messages", {"body": "hi"}).status_code == 403
    types = await order_events(platform, order["id"], 10)
    assert types.count("marketplace.order.message_posted.v1") == 3


def test_a_seller_on_vacation_has_no_visible_listings(operator, seller, buyer):
    listing = ok(seller.post("/v1/listings", listing_body()))
    until = now_of(operator).date().toordinal() + 10
    from datetime import date

    ok(seller.put("/v1/sellers/me/vacation", {"until": date.fromordinal(until).isoformat()}))
    visible = buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"]
    assert visible == []
    own = seller.get("/v1/listings", params={"seller_id": seller.id}).json()["items"]
    assert [item["id"] for item in own] == [listing["id"]]
    assert buyer.get(f"/v1/listings/{listing['id']}").status_code == 404
    assert seller.get(f"/v1/listings/{listing['id']}").status_code == 200
    refused = buyer.post("/v1/orders", order_body(listing["id"]))
    assert refused.status_code == 409
    ok(seller.put("/v1/sellers/me/vacation", {"until": None}))
    assert buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"]


async def test_a_suspended_sellers_listings_are_hidden_and_cannot_be_ordered(
    platform, seller, buyer
):
    from datetime import UTC, datetime

    from contracts.seller_standards import SellerStandingChanged
    from servicekit.testing import publish

    listing = ok(seller.post("/v1/listings", listing_body()))

    async def standing(value: str, previous: str) -> None:
        event = SellerStandingChanged(
            seller_id=seller.id,
            standing=value,
            previous=previous,
            reason="On-time shipping below 80% over 30 days",
            changed_at=datetime.now(UTC),
        )
        await publish(platform.bootstrap, event, source="seller_standards", time=event.changed_at)

    await standing("suspended", "under_review")
    eventually(
        lambda: buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"] == []
    )
    refused = buyer.post("/v1/orders", order_body(listing["id"]))
    assert refused.status_code == 409
    assert "cannot take orders" in refused.json()["detail"]

    await standing("good", "suspended")
    eventually(lambda: buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"])
    assert buyer.post("/v1/orders", order_body(listing["id"])).status_code == 201


def test_two_racing_commands_on_one_order_cannot_both_win(operator, seller, buyer, carrier):
    """Confirming receipt and reporting a problem exclude each other whichever comes first;
    sent at once, one wins and the other is a 409 (a version conflict or a refused action)."""
    from concurrent.futures import ThreadPoolExecutor

    for _ in range(3):
        order = authorized_order(seller, buyer)
        ok(seller.post(f"/v1/orders/{order['id']}/accept"))
        _, number = ship(seller, order)
        ok(carrier_says(carrier, operator, number, "delivered"))
        with ThreadPoolExecutor(2) as pool:
            confirm = pool.submit(buyer.post, f"/v1/orders/{order['id']}/confirm-receipt")
            problem = pool.submit(
                buyer.post,
                f"/v1/orders/{order['id']}/report-problem",
                {"reason": "damaged", "details": "Dented"},
            )
            answers = [confirm.result(), problem.result()]
        assert sorted(a.status_code for a in answers) == [200, 409]
        final = ok(buyer.get(f"/v1/orders/{order['id']}"))
        assert final["status"] == ("completed" if answers[0].status_code == 200 else "disputed")
        assert kinds(final).count("completed") + kinds(final).count("problem_reported") == 1


def test_a_seller_changes_a_listing_and_nobody_else_can(new_principal, seller, buyer):
    listing = ok(seller.post("/v1/listings", listing_body()))
    paused = ok(
        seller.patch(f"/v1/listings/{listing['id']}", {"status": "paused", "handling_days": 3})
    )
    assert (paused["status"], paused["handling_days"]) == ("paused", 3)
    assert buyer.post("/v1/orders", order_body(listing["id"])).status_code == 409
    other = new_principal("seller")
    assert other.patch(f"/v1/listings/{listing['id']}", {"status": "active"}).status_code == 404
    assert seller.patch(f"/v1/listings/{listing['id']}", {"price": 5}).status_code == 422
    free = {"price": {"amount_minor": 0, "currency": "EUR"}}
    assert seller.patch(f"/v1/listings/{listing['id']}", free).status_code == 422
    negative = listing_body(price={"amount_minor": -100, "currency": "EUR"})
    assert seller.post("/v1/listings", negative).status_code == 422
