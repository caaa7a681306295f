"""Orders against an attacker (issue #16), through the service's own HTTP API with the headers
the gateway forwards, on SQLite and PostgreSQL: carriers bound to their parcels."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from orders import domain, handlers
from orders.domain import Fulfilment, Status
from orders.handlers import Who

from orders_service_test_helpers import (
    SELLER,
    THREE_PL,
    call,
    order_through,
    stored_order,
    tracking_of,
)
from orders_test_helpers import NOW, placed

DHL = Who("usr_dhl", "carrier", "DHL")
UPS = Who("usr_ups", "carrier", "UPS")
OLD_CARRIER_TOKEN = Who("usr_old_carrier", "carrier", None)


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
