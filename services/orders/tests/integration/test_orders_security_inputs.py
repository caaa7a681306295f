"""Orders against an attacker (issue #16), through the service's own HTTP API with the headers
the gateway forwards, on SQLite and PostgreSQL: plain text, bounded dates and prices, malformed
cursors as 422, and the buyer's card decline kept from the seller."""

import base64
import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from orders import domain
from orders.domain import Actor, Fulfilment, Status

from orders_service_test_helpers import (
    AGENT,
    BUYER,
    SELLER,
    call,
    client,
    failed,
    handle,
    new_listing,
    new_order,
    order_through,
    stored_order,
)
from orders_test_helpers import CALENDAR, NOW, placed

# --- plain text -------------------------------------------------------------------------------

HOSTILE = ["Camera\x1b[2J", "Camera\u202egpj.exe", "Camera\x00", "two\nlines", "bell\x07"]


@pytest.mark.parametrize("text", HOSTILE)
async def test_control_characters_in_one_line_texts_are_refused(ctx, app, text):
    listing = {
        "title": "Camera",
        "price": {"amount_minor": 100, "currency": "EUR"},
        "quantity_available": 1,
        "fulfilment": "seller_ships",
        "handling_days": 2,
    }
    refused = await call(app, SELLER, "POST", "/v1/listings", listing | {"title": text})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    _, accepted = await order_through(ctx, Status.ACCEPTED)
    ship = f"/v1/orders/{accepted.id}/ship"
    for body in (
        {"carrier": text, "tracking_number": "T-1"},
        {"carrier": "DHL", "tracking_number": text},
    ):
        assert (await call(app, SELLER, "POST", ship, body)).status_code == 422
    decline = await call(app, SELLER, "POST", f"/v1/orders/{accepted.id}/decline", {"reason": text})
    assert decline.status_code == 422
    address = {
        "name": text,
        "line1": "1 Main St",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    moved = await call(app, BUYER, "PUT", f"/v1/orders/{accepted.id}/shipping-address", address)
    assert moved.status_code == 422
    assert (await stored_order(ctx, accepted.id)).status is Status.ACCEPTED


async def test_messages_keep_line_breaks_but_not_terminal_escapes(ctx, app):
    _, order = await order_through(ctx, Status.ACCEPTED)
    path = f"/v1/orders/{order.id}/messages"
    assert (await call(app, BUYER, "POST", path, {"body": "Hello\n\tthere"})).status_code == 201
    for body in ("Hi\x1b]8;;http://evil\x07", "Hi\u202e", "Hi\x00", "Hi Camera\x1b[2J"):
        assert (await call(app, BUYER, "POST", path, {"body": body})).status_code == 422
    kept = (await call(app, BUYER, "GET", path)).json()["items"]
    assert [m["body"] for m in kept] == ["Hello\n\tthere"]  # nothing refused was kept


# --- money and dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "price",
    [
        {"amount_minor": 100, "currency": "ZZZ"},
        {"amount_minor": 0, "currency": "EUR"},
        {"amount_minor": -100, "currency": "EUR"},
        {"amount_minor": 10**11, "currency": "JPY"},
        {"amount_minor": 10**30, "currency": "EUR"},
    ],
)
async def test_a_listing_price_is_positive_bounded_and_in_a_real_currency(app, price):
    listing = {
        "title": "Camera",
        "price": price,
        "quantity_available": 1,
        "fulfilment": "seller_ships",
        "handling_days": 2,
    }
    assert (await call(app, SELLER, "POST", "/v1/listings", listing)).status_code == 422


@pytest.mark.parametrize("days_ahead", [31, 3_000_000])
async def test_a_redelivery_date_is_within_the_window(ctx, app, days_ahead):
    _, order = await order_through(ctx, Status.DELIVERY_FAILED)
    try:
        preferred = (NOW.date() + timedelta(days=days_ahead)).isoformat()
    except OverflowError:
        preferred = "9999-12-31"
    path = f"/v1/orders/{order.id}/redeliver"
    answer = await call(app, BUYER, "POST", path, {"preferred_date": preferred})
    assert answer.status_code == 422, answer.text
    assert (await stored_order(ctx, order.id)).status is Status.DELIVERY_FAILED
    fine = (NOW.date() + timedelta(days=30)).isoformat()
    assert (await call(app, BUYER, "POST", path, {"preferred_date": fine})).status_code == 200


@pytest.mark.parametrize("event_date", ["9999-12-31", "2028-12-01", "2026-11-23"])
async def test_a_ticket_listing_is_dated_within_two_years(app, event_date):
    listing = {
        "title": "Concert ticket",
        "price": {"amount_minor": 5000, "currency": "EUR"},
        "quantity_available": 1,
        "fulfilment": "transfer",
        "handling_days": 1,
        "event_date": event_date,
    }
    answer = await call(app, SELLER, "POST", "/v1/listings", listing)
    assert answer.status_code == 422, answer.text
    ahead = await call(app, SELLER, "POST", "/v1/listings", listing | {"event_date": "2028-06-01"})
    assert ahead.status_code == 201, ahead.text


def test_a_ticket_dated_at_the_end_of_time_still_moves_on():
    """An order stored before event dates were bounded: no deadline arithmetic overflows."""
    order = replace(placed(Fulfilment.TRANSFER), event_date=date(9999, 12, 31))
    order = domain.record_authorization(order, order.total, NOW).order
    order = domain.accept(order, Actor.SELLER, NOW, CALENDAR).order
    shipped = domain.ship(
        order, Actor.SELLER, NOW, carrier=None, tracking_number=None, transfer_reference="TIX-1"
    ).order
    assert shipped.status is Status.SHIPPED and shipped.auto_complete_at == domain.LATEST
    assert domain.steps(shipped, CALENDAR, domain.OrderRules())


# --- cursors ----------------------------------------------------------------------------------


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "bad",
    [
        cursor("not a date", "ord_1"),
        cursor("2026-13-45T00:00:00+00:00", "ord_1"),
        cursor("2026-11-23T12:00:00", "ord_1"),  # no offset
        cursor("0001-01-01T00:00:00+01:00", "ord_1"),
        cursor("2026-11-23T12:00:00+00:00"),
        "%%%not-base64",
        cursor("9" * 5000, "x"),
    ],
)
async def test_a_malformed_list_cursor_is_a_422(ctx, app, bad):
    await order_through(ctx, Status.PLACED)
    for who, path in ((SELLER, "/v1/listings"), (BUYER, "/v1/orders?role=buyer")):
        answer = await call(app, who, "GET", f"{path}{'&' if '?' in path else '?'}cursor={bad}")
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "bad",
    [
        cursor("9" * 30),
        cursor("²"),
        cursor("-1"),
        cursor("x"),
        cursor("not a date", "ord_x"),
        cursor("2026-11-23T12:00:00", "ord_x"),
    ],
)
async def test_a_malformed_message_cursor_is_a_422(ctx, app, bad):
    _, order = await order_through(ctx, Status.ACCEPTED)
    answer = await call(app, BUYER, "GET", f"/v1/orders/{order.id}/messages?cursor={bad}")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


# --- the buyer's card -------------------------------------------------------------------------


async def test_the_seller_does_not_see_why_the_buyers_card_was_declined(ctx, app):
    listing = await new_listing(ctx)
    order = await new_order(ctx, listing.id)
    declined = failed(order.id)
    await handle(ctx, declined.model_copy(update={"reason": "Insufficient funds on your account"}))

    path = f"/v1/orders/{order.id}"
    seen_by_seller = (await call(app, SELLER, "GET", path)).text
    assert "Insufficient funds" not in seen_by_seller
    assert "The card was not authorized" in seen_by_seller
    for who in (BUYER, AGENT):
        assert "Insufficient funds" in (await call(app, who, "GET", path)).text
    listed = (await call(app, SELLER, "GET", "/v1/orders?role=seller")).text
    assert "Insufficient funds" not in listed


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "Camera", "price": {"amount_minor": ' + "9" * 5000 + ', "currency": "EUR"}}',
        '{"title": "Camera", "quantity_available": 1e999}',
        '{"title": "\\ud800"}',
    ],
)
async def test_odd_json_is_a_client_error(app, raw):
    async with client(app, SELLER) as http:
        answer = await http.post(
            "/v1/listings", content=raw, headers={"Content-Type": "application/json"}
        )
    assert 400 <= answer.status_code < 500, answer.text
