"""Resale of tickets and hotel bookings end to end (#20), through the gateway on the manual
clock: the money waits for the event (a ticket confirmed early is paid out only after the
event, a hotel stay only after check-out, however long), a ticket reference is sold once, and
an operator's cancellation or postponement of an event makes every buyer whole."""

from datetime import datetime, timedelta

from e2e_helpers import advance, eventually, now_of, ok, order_status

RECIPIENT = {"name": "Bea Buyer", "email": "bea@example.org"}


def new_event(operator, kind, starts: datetime, hours: float, name: str) -> dict:
    venue_time = starts
    return ok(
        operator.post(
            "/v1/events",
            {
                "name": name,
                "venue": "Konzerthaus Berlin" if kind == "ticket" else "Hotel Adlon",
                "kind": kind,
                "starts_at": venue_time.isoformat(),
                "ends_at": (venue_time + timedelta(hours=hours)).isoformat(),
            },
        )
    )


def bought(seller, buyer, event, price=9000) -> dict:
    """A ticket of the event listed, bought in the recipient's name, its card authorized."""
    listing = ok(
        seller.post(
            "/v1/listings",
            {
                "title": f"A seat for {event['name']}",
                "price": {"amount_minor": price, "currency": "EUR"},
                "quantity_available": 1,
                "fulfilment": "transfer",
                "handling_days": 2,
                "event_id": event["id"],
            },
        )
    )
    placed = ok(
        buyer.post(
            "/v1/orders",
            {
                "listing_id": listing["id"],
                "payment_method": "pm_card_visa",
                "recipient": RECIPIENT,
            },
        )
    )
    return eventually(order_status(buyer, placed["id"], "awaiting_seller"))


def transferred(seller, buyer, order, reference) -> dict:
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"transfer_reference": reference}))
    eventually(payment_in(buyer, order["id"], "captured"))
    return ok(buyer.get(f"/v1/orders/{order['id']}"))


def payment_in(api, order_id, state):
    def check():
        payment = api.get(f"/v1/orders/{order_id}/payment").json()
        return payment if payment.get("state") == state else None

    return check


def test_the_money_waits_for_the_event_and_a_ticket_is_sold_once(operator, seller, buyer):
    ok(seller.put("/v1/sellers/me/payout-account", {"country": "DE", "currency": "EUR"}))
    t0 = now_of(operator)
    berlin = t0.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+01:00").tzinfo)
    gig = new_event(operator, "ticket", berlin + timedelta(days=5), 3, "Nils Frahm live")
    stay = new_event(operator, "hotel_booking", berlin + timedelta(days=2), 240, "Berlin stay")
    ticket = bought(seller, buyer, gig)
    room = bought(seller, buyer, stay, price=40000)
    reference = f"TIX-{ticket['id'][-8:]}"
    shown = transferred(seller, buyer, ticket, reference)
    transferred(seller, buyer, room, f"BKG-{room['id'][-8:]}")

    # The order view shows the event on the venue's clock and where the money is.
    assert (shown["event"]["name"], shown["event"]["venue"]) == (
        "Nils Frahm live",
        "Konzerthaus Berlin",
    )
    assert shown["event"]["local_starts_at"].endswith("+01:00")
    assert shown["recipient"] == RECIPIENT
    release = datetime.fromisoformat(shown["payment"]["held_until"])
    assert release == datetime.fromisoformat(gig["ends_at"]) + timedelta(days=2)
    assert "held until" in shown["steps"][2]["message"]

    # The same ticket sold again to another buyer is refused.
    again = bought(seller, buyer, gig, price=8000)
    ok(seller.post(f"/v1/orders/{again['id']}/accept"))
    refused = seller.post(f"/v1/orders/{again['id']}/ship", {"transfer_reference": reference})
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("transfer-reference-in-use")

    # The buyer confirms early: recorded, and the money stays in escrow until after the event.
    confirmed = ok(buyer.post(f"/v1/orders/{ticket['id']}/confirm-receipt"))
    assert confirmed["status"] == "shipped"
    assert "report_problem" in confirmed["allowed_actions"]
    advance(operator, days=6)  # the concert is over; check-in was four days ago
    assert ok(buyer.get(f"/v1/orders/{ticket['id']}"))["status"] == "shipped"
    assert ok(buyer.get(f"/v1/orders/{room['id']}"))["status"] == "shipped"  # still in the room
    early = ok(operator.post("/v1/ops/payouts/run", {}))["payouts"]
    assert [p for p in early if p["seller_id"] == seller.id] == []  # nothing released yet

    advance(operator, days=1.5)  # two days after the concert ended
    eventually(order_status(buyer, ticket["id"], "completed"))
    eventually(payment_in(seller, ticket["id"], "released"))
    run = ok(operator.post("/v1/ops/payouts/run", {}))
    (payout,) = [p for p in run["payouts"] if p["seller_id"] == seller.id]
    assert (payout["status"], payout["order_ids"]) == ("paid", [ticket["id"]])
    assert ok(buyer.get(f"/v1/orders/{room['id']}"))["status"] == "shipped"

    advance(operator, days=7)  # two days after check-out
    eventually(order_status(buyer, room["id"], "completed"))


def test_a_cancelled_event_makes_every_buyer_whole_and_a_postponed_one_lets_them_cancel(
    operator, seller, buyer
):
    starts = now_of(operator) + timedelta(days=10)
    gig = new_event(operator, "ticket", starts, 3, "Festival night")
    waiting = bought(seller, buyer, gig)
    accepted = bought(seller, buyer, gig)
    ok(seller.post(f"/v1/orders/{accepted['id']}/accept"))
    captured = transferred(seller, buyer, bought(seller, buyer, gig), "FEST-1")

    ok(operator.post(f"/v1/events/{gig['id']}/cancel", {"reason": "The headliner is ill"}))

    for order, state in ((waiting, "voided"), (accepted, "voided"), (captured, "refunded")):
        payment = eventually(payment_in(buyer, order["id"], state))
        shown = ok(buyer.get(f"/v1/orders/{order['id']}"))
        assert (shown["status"], shown["cancel_reason"]) == ("cancelled", "event_cancelled")
    assert payment["refunded"] == captured["total"]  # the last one was captured: refunded in full
    told = eventually(
        lambda: [
            n
            for n in ok(buyer.get("/v1/me/notifications"))["items"]
            if n["title"] == "Festival night is cancelled: you get your money back"
        ]
    )
    assert len(told) == 3

    later = new_event(operator, "ticket", starts, 3, "Opera gala")
    ticket = transferred(seller, buyer, bought(seller, buyer, later), "GALA-1")
    new_start = starts + timedelta(days=30)
    ok(
        operator.post(
            f"/v1/events/{later['id']}/postpone",
            {
                "starts_at": new_start.isoformat(),
                "ends_at": (new_start + timedelta(hours=3)).isoformat(),
            },
        )
    )
    shown = eventually(
        lambda: (
            (o := ok(buyer.get(f"/v1/orders/{ticket['id']}")))["event"]["status"] == "postponed"
            and o
        )
    )
    assert "cancel" in shown["allowed_actions"]
    ok(buyer.post(f"/v1/orders/{ticket['id']}/cancel", {"reason": "I cannot go then"}))
    refunded = eventually(payment_in(buyer, ticket["id"], "refunded"))
    assert refunded["refunded"] == ticket["total"]
