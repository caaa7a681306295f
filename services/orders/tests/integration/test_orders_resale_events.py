"""Resale events through the HTTP API on SQLite and PostgreSQL (#20): operators create them,
transfer listings name them, anyone signed in reads one with its listings, cheapest first."""

from contracts import Money
from contracts.support import TicketResolved
from orders import handlers

from orders_service_test_helpers import (
    BUYER,
    OPERATOR,
    OTHER_BUYER,
    OTHER_SELLER,
    SELLER,
    authorized,
    call,
    data,
    event_types,
    handle,
    outbox_rows,
    received,
)

EVENT = {
    "name": "Nils Frahm live",
    "venue": "Konzerthaus Berlin",
    "kind": "ticket",
    "starts_at": "2026-12-12T20:00:00+01:00",
    "ends_at": "2026-12-12T23:00:00+01:00",
}


def transfer_listing(event_id: str, amount_minor: int, title: str = "Row 4, seat 12") -> dict:
    return {
        "title": title,
        "price": Money(amount_minor=amount_minor, currency="EUR").model_dump(),
        "quantity_available": 1,
        "fulfilment": "transfer",
        "handling_days": 2,
        "event_id": event_id,
    }


async def new_event(app, **changes) -> dict:
    answer = await call(app, OPERATOR, "POST", "/v1/events", EVENT | changes)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_an_operator_creates_an_event_shown_on_the_venues_clock_with_its_listings(app):
    event = await new_event(app)
    assert event["status"] == "scheduled"
    assert event["starts_at"] == "2026-12-12T19:00:00+00:00"
    assert event["local_starts_at"] == "2026-12-12T20:00:00+01:00"
    dear = await call(app, SELLER, "POST", "/v1/listings", transfer_listing(event["id"], 9000))
    cheap = await call(
        app, SELLER, "POST", "/v1/listings", transfer_listing(event["id"], 4500, "Balcony")
    )
    assert dear.status_code == cheap.status_code == 201, dear.text
    assert dear.json()["event_id"] == event["id"]
    assert dear.json()["event_date"] == "2026-12-12"  # the venue's day of the start

    shown = await call(app, BUYER, "GET", f"/v1/events/{event['id']}")

    assert shown.status_code == 200
    assert [item["id"] for item in shown.json()["listings"]] == [
        cheap.json()["id"],
        dear.json()["id"],
    ]


async def test_only_operators_create_events_and_times_need_an_offset(app):
    assert (await call(app, SELLER, "POST", "/v1/events", EVENT)).status_code == 403
    naive = EVENT | {"starts_at": "2026-12-12T20:00:00"}
    assert (await call(app, OPERATOR, "POST", "/v1/events", naive)).status_code == 422
    backwards = EVENT | {"ends_at": "2026-12-12T19:00:00+01:00"}
    refused = await call(app, OPERATOR, "POST", "/v1/events", backwards)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("event-dates-invalid")
    past = EVENT | {"starts_at": "2026-11-01T20:00:00+01:00", "ends_at": "2026-11-01T23:00+01:00"}
    assert (await call(app, OPERATOR, "POST", "/v1/events", past)).status_code == 422
    hostile = EVENT | {"name": "Gig\x1b[31m"}
    assert (await call(app, OPERATOR, "POST", "/v1/events", hostile)).status_code == 422
    assert (await call(app, BUYER, "GET", "/v1/events/evt_nope")).status_code == 404


async def test_a_listing_for_an_unknown_event_or_not_a_transfer_is_refused(app):
    event = await new_event(app)
    unknown = await call(app, SELLER, "POST", "/v1/listings", transfer_listing("evt_nope", 100))
    assert unknown.status_code == 404
    goods = transfer_listing(event["id"], 100) | {"fulfilment": "seller_ships"}
    assert (await call(app, SELLER, "POST", "/v1/listings", goods)).status_code == 422


# --- orders of an event ----------------------------------------------------------------------

RECIPIENT = {"name": "Bea Buyer", "email": "bea@example.org"}


async def event_order_in(app, ctx, event_id: str, status: str, price: int = 9000) -> dict:
    """A ticket of the event bought by the buyer and brought to `status` through the API
    (and payments' authorization, delivered as the consumer would)."""
    listing = await call(app, SELLER, "POST", "/v1/listings", transfer_listing(event_id, price))
    placed = await call(
        app,
        BUYER,
        "POST",
        "/v1/orders",
        {
            "listing_id": listing.json()["id"],
            "payment_method": "pm_card_visa",
            "recipient": RECIPIENT,
        },
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    await handle(ctx, authorized(order["id"], Money(amount_minor=price, currency="EUR")))
    if status == "awaiting_seller":
        return order
    assert (await call(app, SELLER, "POST", f"/v1/orders/{order['id']}/accept")).status_code == 200
    if status == "accepted":
        return order
    reference = {"transfer_reference": f"TIX-{order['id'][-6:]}"}
    shipped = await call(app, SELLER, "POST", f"/v1/orders/{order['id']}/ship", reference)
    assert shipped.status_code == 200, shipped.text
    return shipped.json()


async def test_an_event_order_needs_its_recipient_and_shows_the_event_and_where_the_money_is(
    app, ctx
):
    event = await new_event(app)
    listing = await call(app, SELLER, "POST", "/v1/listings", transfer_listing(event["id"], 900))
    order = {"listing_id": listing.json()["id"], "payment_method": "pm_card_visa"}
    missing = await call(app, BUYER, "POST", "/v1/orders", order)
    assert missing.status_code == 422
    assert missing.json()["type"].endswith("recipient-required")
    bad_mail = order | {"recipient": {"name": "Bea", "email": "bea at example"}}
    assert (await call(app, BUYER, "POST", "/v1/orders", bad_mail)).status_code == 422

    shipped = await event_order_in(app, ctx, event["id"], "shipped")

    assert shipped["event"]["name"] == "Nils Frahm live"
    assert shipped["event"]["local_starts_at"] == "2026-12-12T20:00:00+01:00"
    assert shipped["recipient"] == RECIPIENT
    assert shipped["payment"]["held_until"] == "2026-12-14T22:00:00+00:00"
    assert "held until" in shipped["steps"][2]["message"]


async def test_a_transfer_reference_another_open_order_of_the_event_uses_is_refused(app, ctx):
    event = await new_event(app)
    first = await event_order_in(app, ctx, event["id"], "shipped")
    second = await event_order_in(app, ctx, event["id"], "accepted")
    again = {"transfer_reference": first["shipment"]["transfer_reference"]}

    refused = await call(app, SELLER, "POST", f"/v1/orders/{second['id']}/ship", again)

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("transfer-reference-in-use")
    shown = await call(app, SELLER, "GET", f"/v1/orders/{second['id']}")
    assert shown.json()["status"] == "accepted"


async def test_an_operator_cancelling_the_event_cancels_every_open_order_of_it(app, ctx, engine):
    event = await new_event(app)
    orders = {
        status: await event_order_in(app, ctx, event["id"], status)
        for status in ("awaiting_seller", "accepted", "shipped")
    }
    unsold = await call(app, SELLER, "POST", "/v1/listings", transfer_listing(event["id"], 100))
    assert unsold.status_code == 201
    before = len(await outbox_rows(engine))
    refused = await call(app, SELLER, "POST", f"/v1/events/{event['id']}/cancel", {"reason": "x"})
    assert refused.status_code == 403

    answer = await call(
        app, OPERATOR, "POST", f"/v1/events/{event['id']}/cancel", {"reason": "The artist is ill"}
    )

    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    for order in orders.values():
        shown = (await call(app, BUYER, "GET", f"/v1/orders/{order['id']}")).json()
        assert (shown["status"], shown["cancel_reason"]) == ("cancelled", "event_cancelled")
    emitted = (await outbox_rows(engine))[before:]
    cancelled = [data(row) for row in emitted if row.event_type.endswith("order.cancelled.v1")]
    assert {item["order_id"] for item in cancelled} == {o["id"] for o in orders.values()}
    assert {item["reason"] for item in cancelled} == {"event_cancelled"}
    assert emitted[-1].event_type == "marketplace.resale_event.cancelled.v1"
    assert data(emitted[-1])["open_orders"] == 3
    shown = (await call(app, BUYER, "GET", f"/v1/events/{event['id']}")).json()
    assert shown["status"] == "cancelled"
    assert shown["listings"] == []  # nothing of it can be bought any more
    again = {"reason": "again"}
    twice = await call(app, OPERATOR, "POST", f"/v1/events/{event['id']}/cancel", again)
    assert twice.status_code == 409


async def test_a_postponed_event_moves_its_orders_and_their_buyers_may_cancel(app, ctx, engine):
    event = await new_event(app)
    shipped = await event_order_in(app, ctx, event["id"], "shipped")
    new_dates = {"starts_at": "2027-01-16T20:00:00+01:00", "ends_at": "2027-01-16T23:00:00+01:00"}

    answer = await call(app, OPERATOR, "POST", f"/v1/events/{event['id']}/postpone", new_dates)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "postponed"
    shown = (await call(app, BUYER, "GET", f"/v1/orders/{shipped['id']}")).json()
    assert shown["event"]["local_starts_at"] == "2027-01-16T20:00:00+01:00"
    assert shown["payment"]["held_until"] == "2027-01-18T22:00:00+00:00"
    assert "cancel" in shown["allowed_actions"]
    assert "marketplace.order.event_postponed.v1" in await event_types(engine)
    cancelled = await call(
        app, BUYER, "POST", f"/v1/orders/{shipped['id']}/cancel", {"reason": "Cannot go then"}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


async def test_a_rebook_on_a_listing_sold_out_meanwhile_tells_support_and_places_nothing(
    app, ctx, engine
):
    event = await new_event(app)
    first = await event_order_in(app, ctx, event["id"], "accepted")
    other = await call(
        app, OTHER_SELLER, "POST", "/v1/listings", transfer_listing(event["id"], 9500, "Row 2")
    )
    bought = {"listing_id": other.json()["id"], "payment_method": "pm_card_visa"}
    sold = await call(app, OTHER_BUYER, "POST", "/v1/orders", bought | {"recipient": RECIPIENT})
    assert sold.status_code == 201, sold.text  # the last one: sold out
    declined = await call(
        app, SELLER, "POST", f"/v1/orders/{first['id']}/decline", {"reason": "Lost it"}
    )
    assert declined.status_code == 200, declined.text
    decided = TicketResolved(
        ticket_id="tkt_r",
        order_id=first["id"],
        buyer_id=first["buyer_id"],
        seller_id=first["seller_id"],
        action="rebook",
        note="Row 2 instead",
        resolved_by="usr_agent",
        resolved_at=ctx.clock.now(),
        listing_id=other.json()["id"],
    )

    before = len(await outbox_rows(engine))
    await handle_resolution(ctx, decided)
    await handle_resolution(ctx, decided)  # once more: still nothing placed, told again

    rows = (await outbox_rows(engine))[before:]
    assert [row.event_type for row in rows] == ["marketplace.order.rebook_failed.v1"] * 2
    told = data(rows[0])
    assert (told["order_id"], told["ticket_id"], told["new_listing_id"]) == (
        first["id"],
        "tkt_r",
        other.json()["id"],
    )
    assert told["reason"] == "This listing is not available to order"
    assert told["event"]["name"] == EVENT["name"]
    view = (await call(app, BUYER, "GET", f"/v1/orders/{first['id']}")).json()
    assert view["status"] == "cancelled" and view.get("replaced_by") is None
    assert "a specialist is finding you another or refunding you" in view["timeline"][-1]["detail"]


async def handle_resolution(ctx, decided: TicketResolved) -> None:
    async with ctx.db.unit_of_work() as uow:
        await handlers.on_ticket_resolved(ctx, received(decided), uow)
        await uow.commit()
