"""A carrier's parcels that need something (`GET /v1/carrier/shipments`, issue #19): the date
a buyer chose for another attempt, a return to pick up; only the caller's carrier's parcels,
only requests still open, newer than `since`, paginated. On SQLite and PostgreSQL, through
the handlers and the service's own HTTP API with the headers the gateway forwards."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orders import handlers
from orders.api import install_api
from orders.domain import DomainError, Status
from orders.handlers import Who
from servicekit.hosting.http import install_problem_handlers

from orders_service_test_helpers import BUYER, SELLER, order_through, report, stored_order
from orders_test_helpers import ADDRESS

DHL = Who("usr_dhl", "carrier", "DHL")
DHL_OTHER_SPELLING = Who("usr_dhl_2", "carrier", "d.h.l.")
UPS = Who("usr_ups", "carrier", "UPS")
NO_CARRIER = Who("usr_old_carrier", "carrier", None)


async def failed_and_redated(ctx: Any, days: int = 2) -> tuple[Any, date]:
    """An order shipped with DHL whose delivery failed; the buyer chose a date `days` ahead."""
    _, order = await order_through(ctx, Status.DELIVERY_FAILED)
    wanted = ctx.clock.now().date() + timedelta(days=days)
    ctx.clock.advance(60)
    await handlers.redeliver(ctx, order.id, BUYER, wanted)
    return await stored_order(ctx, order.id), wanted


async def requests_of(ctx: Any, who: Who, **arguments: Any) -> list[Any]:
    arguments.setdefault("since", None)
    arguments.setdefault("limit", 50)
    found = await handlers.carrier_requests(ctx, carrier=who.carrier, **arguments)
    return [request for request, _ in found]


# --- through the handlers ------------------------------------------------------------------


async def test_a_date_the_buyer_chose_reaches_the_carrier(ctx):
    order, wanted = await failed_and_redated(ctx)

    (request,) = await requests_of(ctx, DHL)

    assert (request.order_id, request.tracking_number, request.kind, request.date) == (
        order.id,
        order.tracking_number,
        "redelivery",
        wanted,
    )
    assert request.address == ADDRESS
    assert request.asked_at == order.timeline[-1].at  # when the buyer asked


async def test_another_carriers_parcels_never_appear(ctx):
    await failed_and_redated(ctx)

    assert await requests_of(ctx, UPS) == []
    assert len(await requests_of(ctx, DHL_OTHER_SPELLING)) == 1  # one carrier, folded


async def test_a_carrier_account_naming_no_carrier_has_no_parcels(ctx):
    await failed_and_redated(ctx)

    with pytest.raises(DomainError) as refused:
        await requests_of(ctx, NO_CARRIER)

    assert refused.value.slug == "carrier-not-named"


async def test_a_return_to_pick_up_reaches_the_carrier(ctx):
    _, order = await order_through(ctx, Status.RETURN_REQUESTED)

    (request,) = await requests_of(ctx, DHL)

    assert (request.order_id, request.kind) == (order.id, "return_pickup")
    assert request.date == order.return_pickup_date
    assert request.address == ADDRESS


async def test_a_request_acted_on_is_no_longer_listed(ctx):
    order, _ = await failed_and_redated(ctx)
    _, returning = await order_through(ctx, Status.RETURN_REQUESTED)
    ctx.clock.advance(3600)

    await report(ctx, order.id, "delivered")  # the second attempt succeeded
    await handlers.confirm_return(ctx, returning.id, SELLER)  # the item is back

    assert await requests_of(ctx, DHL) == []


async def test_only_the_latest_date_counts(ctx):
    order, _ = await failed_and_redated(ctx, days=2)
    ctx.clock.advance(3600)
    await report(ctx, order.id, "delivery_failed")
    assert await requests_of(ctx, DHL) == []  # failed again: the buyer must choose anew
    ctx.clock.advance(60)
    later = ctx.clock.now().date() + timedelta(days=5)
    await handlers.redeliver(ctx, order.id, BUYER, later)

    (request,) = await requests_of(ctx, DHL)

    assert request.date == later


async def test_since_leaves_out_older_requests_and_pages_go_on(ctx):
    first, _ = await failed_and_redated(ctx)
    ctx.clock.advance(3600)
    second, _ = await failed_and_redated(ctx)
    ctx.clock.advance(3600)
    third, _ = await failed_and_redated(ctx)

    newest = await handlers.carrier_requests(ctx, carrier="DHL", since=None, limit=2)
    rest = await handlers.carrier_requests(
        ctx, carrier="DHL", since=None, limit=2, after=(newest[-1][0].asked_at, newest[-1][1])
    )
    after_first = await requests_of(ctx, DHL, since=first.timeline[-1].at)

    assert [r.order_id for r, _ in newest + rest] == [third.id, second.id, first.id]
    assert [r.order_id for r in after_first] == [third.id, second.id]


# --- through the HTTP API --------------------------------------------------------------------


@pytest.fixture
def app(ctx) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.internal_token = ""
    install_api(app, ctx)
    return app


async def get(app: FastAPI, who: Who, query: str = "") -> httpx.Response:
    headers = {"X-Principal-Id": who.id, "X-Principal-Role": who.role}
    if who.carrier:
        headers["X-Principal-Carrier"] = who.carrier
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as http:
        return await http.get(f"/v1/carrier/shipments{query}", headers=headers)


async def test_the_carrier_lists_its_parcels_over_http(ctx, app):
    order, wanted = await failed_and_redated(ctx)

    answer = await get(app, DHL)

    assert answer.status_code == 200, answer.text
    (item,) = answer.json()["items"]
    assert item == {
        "tracking_number": order.tracking_number,
        "carrier": "DHL",
        "order_id": order.id,
        "kind": "redelivery",
        "date": wanted.isoformat(),
        "address": {
            "name": ADDRESS.name,
            "line1": ADDRESS.line1,
            "line2": None,
            "city": ADDRESS.city,
            "postal_code": ADDRESS.postal_code,
            "country": ADDRESS.country,
        },
        "asked_at": order.timeline[-1].at.isoformat(),
    }
    assert answer.json()["next_cursor"] is None
    assert (await get(app, UPS)).json() == {"items": [], "next_cursor": None}


async def test_http_pages_and_since(ctx, app):
    first, _ = await failed_and_redated(ctx)
    ctx.clock.advance(3600)
    second, _ = await failed_and_redated(ctx)

    page = (await get(app, DHL, "?limit=1")).json()
    rest = (await get(app, DHL, f"?limit=1&cursor={page['next_cursor']}")).json()
    since = first.timeline[-1].at.isoformat().replace("+00:00", "Z")
    newer = (await get(app, DHL, f"?since={since}")).json()

    assert [i["order_id"] for i in page["items"] + rest["items"]] == [second.id, first.id]
    assert rest["next_cursor"] is None
    assert [i["order_id"] for i in newer["items"]] == [second.id]


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        (BUYER, "", 403),
        (SELLER, "", 403),
        (NO_CARRIER, "", 403),
        (DHL, "?since=2026-11-23T12:00:00", 422),  # a time without its offset
        (DHL, "?cursor=bm90LWEtY3Vyc29y", 422),
        (DHL, "?limit=0", 422),
    ],
)
async def test_http_refusals(ctx, app, who, query, status):
    assert (await get(app, who, query)).status_code == status
