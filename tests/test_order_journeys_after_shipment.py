"""Each order's journey after shipment through the gateway, on the real broker and database,
with the manual clock for the time-based rules: a failed delivery, a parcel returned to the
sender, returns, exchanges, completion by itself, tickets, and racing commands; and two rows of
the deadline table (a failed delivery returned to the sender, an unconfirmed return refunded)."""

from datetime import UTC, date, datetime, time, timedelta

from e2e_helpers import (
    advance,
    authorized_order,
    carrier_says,
    eventually,
    kinds,
    now_of,
    ok,
    order_status,
    ship,
    step_states,
)


def test_a_failed_delivery_is_tried_again_on_the_buyers_date(operator, seller, buyer, carrier):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    _, number = ship(seller, order)
    failed = ok(carrier_says(carrier, operator, number, "delivery_failed"))
    assert failed["status"] == "delivery_failed" and failed["delivery_attempts"] == 1
    view = ok(buyer.get(f"/v1/orders/{order['id']}"))
    assert "redeliver" in view["allowed_actions"]
    tomorrow = now_of(operator).date().toordinal() + 2
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


def test_a_failed_delivery_and_an_unconfirmed_return_reach_their_outcomes_by_themselves(
    operator, seller, buyer, carrier
):
    """Two rows of API.md's deadline table on the manual clock: no new delivery date within
    7 days returns the parcel to the sender (a ticket follows it up); a return the seller
    never confirms is refunded 14 days after the pickup date."""
    undelivered, returning = authorized_order(seller, buyer), authorized_order(seller, buyer)
    for order in (undelivered, returning):
        ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    _, failed_number = ship(seller, undelivered)
    ok(carrier_says(carrier, operator, failed_number, "delivery_failed"))
    _, number = ship(seller, returning)
    ok(carrier_says(carrier, operator, number, "delivered"))
    requested = ok(buyer.post(f"/v1/orders/{returning['id']}/return", {"reason": "Too small"}))
    pickup = date.fromisoformat(requested["shipment"]["return_pickup_date"])

    advance(operator, days=7, hours=1)
    sent_back = eventually(order_status(buyer, undelivered["id"], "returned_to_sender"))
    assert "returned_to_sender" in kinds(sent_back)
    assert eventually(lambda: ok(buyer.get(f"/v1/orders/{undelivered['id']}"))["tickets"])
    assert ok(buyer.get(f"/v1/orders/{returning['id']}"))["status"] == "return_requested"

    # past the pickup day's end + 14 days (the deadline is at the request's time of day)
    past_deadline = datetime.combine(pickup, time(tzinfo=UTC)) + timedelta(days=15)
    advance(operator, hours=(past_deadline - now_of(operator)).total_seconds() / 3600)
    refunded = eventually(order_status(buyer, returning["id"], "refunded"))
    assert refunded["payment"]["state"] == "refunded"
    assert refunded["payment"]["refunded"] == refunded["total"]
    assert "return_unconfirmed" in kinds(refunded)
