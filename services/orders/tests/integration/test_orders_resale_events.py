"""Resale events through the HTTP API on SQLite and PostgreSQL (#20): operators create them,
transfer listings name them, anyone signed in reads one with its listings, cheapest first."""

from contracts import Money

from orders_service_test_helpers import BUYER, OPERATOR, SELLER, call

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
