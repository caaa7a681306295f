"""Orders against an attacker (issue #16), through the service's own HTTP API with the headers
the gateway forwards, on SQLite and PostgreSQL: carriers bound to their parcels, plain text,
bounded dates and prices, malformed cursors as 422, and the buyer's card decline kept from the
seller."""

import base64
import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orders import domain, handlers
from orders.api import install_api
from orders.domain import Actor, Fulfilment, Status
from orders.handlers import Who
from servicekit.hosting.http import install_problem_handlers

from orders_test_helpers import (
    AGENT,
    BUYER,
    CALENDAR,
    NOW,
    SELLER,
    THREE_PL,
    failed,
    handle,
    new_listing,
    new_order,
    order_through,
    placed,
    stored_order,
    tracking_of,
)

DHL = Who("usr_dhl", "carrier", "DHL")
UPS = Who("usr_ups", "carrier", "UPS")
OLD_CARRIER_TOKEN = Who("usr_old_carrier", "carrier", None)


@pytest.fixture
def app(ctx) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.internal_token = ""
    install_api(app, ctx)
    return app


def client(app: FastAPI, who: Who) -> httpx.AsyncClient:
    headers = {"X-Principal-Id": who.id, "X-Principal-Role": who.role}
    if who.carrier:
        headers["X-Principal-Carrier"] = who.carrier
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://orders", headers=headers)


async def call(app: FastAPI, who: Who, method: str, path: str, body: Any = None) -> httpx.Response:
    async with client(app, who) as http:
        return await http.request(method, path, json=body)


def scan(number: str, status: str, at=NOW) -> dict[str, Any]:
    return {"tracking_number": number, "status": status, "occurred_at": at.isoformat()}


# --- carriers and their parcels ---------------------------------------------------------------


async def test_a_carrier_cannot_report_another_carriers_parcel(ctx, app):
    _, order = await order_through(ctx, Status.SHIPPED)  # shipped with DHL
    number = tracking_of(order.id)

    foreign = await call(app, UPS, "POST", "/v1/carrier-events", scan(number, "delivered"))
    unknown = await call(app, UPS, "POST", "/v1/carrier-events", scan("TRK-NOBODY", "delivered"))

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()  # nothing tells which numbers exist
    assert (await stored_order(ctx, order.id)).status is Status.SHIPPED

    own = await call(
        app,
        Who("usr_dhl2", "carrier", " dhl "),
        "POST",
        "/v1/carrier-events",
        scan(number, "delivered"),
    )
    assert own.status_code == 200, own.text
    assert own.json()["status"] == "delivered"


async def test_a_carrier_account_that_names_no_carrier_reports_nothing(ctx, app):
    _, order = await order_through(ctx, Status.SHIPPED)
    answer = await call(
        app,
        OLD_CARRIER_TOKEN,
        "POST",
        "/v1/carrier-events",
        scan(tracking_of(order.id), "delivered"),
    )
    assert answer.status_code == 403
    assert answer.json()["type"] == "/problems/carrier-not-named"
    assert (await stored_order(ctx, order.id)).status is Status.SHIPPED


async def test_a_tracking_number_in_use_by_an_open_order_is_refused(ctx, app):
    _, honest = await order_through(ctx, Status.SHIPPED)
    _, fraud = await order_through(ctx, Status.ACCEPTED)
    number = tracking_of(honest.id)

    reused = await call(
        app,
        SELLER,
        "POST",
        f"/v1/orders/{fraud.id}/ship",
        {"carrier": "Dhl", "tracking_number": number},
    )
    assert reused.status_code == 409, reused.text
    assert reused.json()["type"] == "/problems/tracking-number-in-use"
    assert (await stored_order(ctx, fraud.id)).status is Status.ACCEPTED

    delivered = await call(app, DHL, "POST", "/v1/carrier-events", scan(number, "delivered"))
    assert delivered.json()["order_id"] == honest.id

    # Another carrier's parcel may carry the same number.
    other = await call(
        app,
        SELLER,
        "POST",
        f"/v1/orders/{fraud.id}/ship",
        {"carrier": "UPS", "tracking_number": number},
    )
    assert other.status_code == 200, other.text


async def test_a_tracking_number_is_free_again_once_its_order_is_over(ctx):
    _, first = await order_through(ctx, Status.COMPLETED)
    _, second = await order_through(ctx, Status.ACCEPTED)
    shipped = await handlers.ship(
        ctx,
        second.id,
        SELLER,
        carrier="DHL",
        tracking_number=tracking_of(first.id),
        transfer_reference=None,
    )
    assert shipped.status is Status.SHIPPED
    found = await handlers.carrier_event(
        ctx, tracking_of(first.id), "delivered", NOW, carrier="DHL"
    )
    assert found.id == second.id


async def test_the_same_report_sent_twice_counts_once(ctx, app, clock):
    _, order = await order_through(ctx, Status.SHIPPED)
    report = scan(tracking_of(order.id), "delivery_failed")
    answers = [await call(app, DHL, "POST", "/v1/carrier-events", report) for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert {a.json()["delivery_attempts"] for a in answers} == {1}
    stored = await stored_order(ctx, order.id)
    assert stored.delivery_attempts == 1
    assert [e.kind for e in stored.timeline].count("delivery_failed") == 1

    clock.advance(3600)
    later = scan(tracking_of(order.id), "delivery_failed", clock.now())
    again = await call(app, DHL, "POST", "/v1/carrier-events", later)
    assert again.json()["delivery_attempts"] == 2


async def test_an_old_parcels_report_sent_again_does_not_deliver_a_newer_order(ctx, app, clock):
    # Seller A's parcel is delivered and the order completed; the number is free again, and
    # another order ships with it. The carrier re-sends A's delivery report.
    _, first = await order_through(ctx, Status.COMPLETED)
    number = tracking_of(first.id)
    delivered_at = first.delivered_at
    assert delivered_at is not None
    clock.advance(300)
    _, second = await order_through(ctx, Status.ACCEPTED)
    await handlers.ship(
        ctx, second.id, SELLER, carrier="DHL", tracking_number=number, transfer_reference=None
    )
    shipped = await stored_order(ctx, second.id)

    resent = await call(
        app, DHL, "POST", "/v1/carrier-events", scan(number, "delivered", delivered_at)
    )
    # Counted once, on the order it was about; nothing new happens to that one either.
    assert resent.status_code == 200, resent.text
    assert resent.json()["order_id"] == first.id
    assert resent.json()["status"] == "completed"

    # Another scan dated before the second shipment is not the second parcel's either.
    earlier = delivered_at + timedelta(seconds=10)
    stale = await call(app, DHL, "POST", "/v1/carrier-events", scan(number, "in_transit", earlier))
    assert stale.status_code == 409, stale.text  # about the first order, which is over
    after = await stored_order(ctx, second.id)
    assert (after.status, after.delivered_at, after.version) == (
        Status.SHIPPED,
        None,
        shipped.version,
    )

    # Scans after the second shipment are the second parcel's.
    clock.advance(60)
    fresh = await call(
        app, DHL, "POST", "/v1/carrier-events", scan(number, "delivered", clock.now())
    )
    assert fresh.json()["order_id"] == second.id
    assert fresh.json()["status"] == "delivered"


async def test_a_scan_dated_before_any_shipment_of_the_number_is_unknown(ctx, app, clock):
    clock.advance(600)
    _, order = await order_through(ctx, Status.SHIPPED)
    number = tracking_of(order.id)
    before = order.shipped_at - timedelta(minutes=5)

    early = await call(app, DHL, "POST", "/v1/carrier-events", scan(number, "delivered", before))
    unknown = await call(app, DHL, "POST", "/v1/carrier-events", scan("TRK-NOBODY", "delivered"))

    assert early.status_code == unknown.status_code == 404, early.text
    assert early.json()["type"] == unknown.json()["type"]
    assert (await stored_order(ctx, order.id)).status is Status.SHIPPED


def test_a_report_is_about_a_parcel_shipped_no_later_than_the_scan():
    old = replace(placed(), id="ord_old", status=Status.COMPLETED, shipped_at=NOW)
    new = replace(
        placed(), id="ord_new", status=Status.SHIPPED, shipped_at=NOW + timedelta(hours=1)
    )
    latest_first = [new, old]

    assert domain.parcel_order(latest_first, NOW + timedelta(minutes=5)) == old
    assert domain.parcel_order(latest_first, NOW + timedelta(hours=1)) == new
    assert domain.parcel_order(latest_first, NOW - timedelta(seconds=1)) is None


@pytest.mark.parametrize(
    "occurred_at",
    [
        (NOW + timedelta(minutes=5)).isoformat(),
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:00:00+01:00",
        (NOW - timedelta(days=365)).isoformat(),
    ],
)
async def test_a_report_from_the_future_or_of_old_history_is_refused(ctx, app, occurred_at):
    _, order = await order_through(ctx, Status.SHIPPED)
    body = {"tracking_number": tracking_of(order.id), "status": "delivered"}
    answer = await call(app, DHL, "POST", "/v1/carrier-events", body | {"occurred_at": occurred_at})
    assert answer.status_code == 422, answer.text
    assert (await stored_order(ctx, order.id)).status is Status.SHIPPED


async def test_a_3pl_ships_only_under_its_own_carrier(ctx, app):
    _, order = await order_through(ctx, Status.ACCEPTED, Fulfilment.WAREHOUSE)
    path = f"/v1/orders/{order.id}/ship"
    as_ups = await call(app, THREE_PL, "POST", path, {"carrier": "UPS", "tracking_number": "W-1"})
    assert as_ups.status_code == 403
    nameless = await call(app, OLD_CARRIER_TOKEN, "POST", path, {"tracking_number": "W-1"})
    assert nameless.status_code == 403
    own = await call(app, THREE_PL, "POST", path, {"tracking_number": "W-1"})
    assert own.status_code == 200, own.text
    assert own.json()["shipment"]["carrier"] == "DHL"


def test_carrier_names_are_compared_folded():
    assert domain.carrier_key(" D.H.L ") == domain.carrier_key("dhl") == "dhl"
    assert domain.carrier_key("UPS") != domain.carrier_key("DHL")


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
    assert (
        await call(app, SELLER, "POST", "/v1/listings", listing | {"title": text})
    ).status_code == 422
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
    for body in ("Hi\x1b]8;;http://evil\x07", "Hi\u202e", "Hi\x00"):
        assert (await call(app, BUYER, "POST", path, {"body": body})).status_code == 422


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


@pytest.mark.parametrize("bad", [cursor("9" * 30), cursor("²"), cursor("-1"), cursor("x")])
async def test_a_malformed_message_cursor_is_a_422(ctx, app, bad):
    _, order = await order_through(ctx, Status.ACCEPTED)
    answer = await call(app, BUYER, "GET", f"/v1/orders/{order.id}/messages?cursor={bad}")
    assert answer.status_code == 422, answer.text


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
