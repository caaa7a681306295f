"""A buyer's and a seller's pages on the in-process portal (issue #21), with the orders
service behind the gateway played by a small app that answers as the API does and records
what reaches it: the order page names the item and the other party, an irreversible action
reaches the API only from its confirmation step, a refused form comes back filled with the
errors by their fields, dates follow the reader's zone, the seller's queue is ordered by
urgency with inline actions, and listings and vacation are managed with prices in units."""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway import api
from gateway.portal import SecurityHeaders, install
from gateway.portal.settings import PortalSettings
from servicekit.hosting.http import install_problem_handlers

from gateway_test_helpers import HOSTILE, OPERATOR_TOKEN, bearer

SHIP_BY = "2026-11-27T23:30:00+00:00"


def an_order(buyer_id: str, seller_id: str, **changes: Any) -> dict[str, Any]:
    eur = lambda minor: {"amount_minor": minor, "currency": "EUR"}  # noqa: E731
    return {
        "id": "ord_1",
        "status": "accepted",
        "buyer_id": buyer_id,
        "seller_id": seller_id,
        "title": "Leica M6",
        "quantity": 1,
        "unit_price": eur(14500),
        "total": eur(14500),
        "fulfilment": "seller_ships",
        "placed_at": "2026-11-23T09:00:00+00:00",
        "accept_by": "2026-11-25T09:00:00+00:00",
        "ship_by": SHIP_BY,
        "shipping_address": {
            "name": "Bea Buyer",
            "line1": "Keizersgracht 1",
            "city": "Amsterdam",
            "postal_code": "1015 AA",
            "country": "NL",
        },
        "steps": [],
        "timeline": [],
        "payment": {"state": "authorized", "authorized": eur(14500)},
        "shipment": {},
        "tickets": [],
        "allowed_actions": ["ship", "decline", "message"],
    } | changes


class Orders:
    """The orders service as the gateway reaches it: canned answers, every call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.orders: list[dict[str, Any]] = []
        self.refusal: dict[str, Any] | None = None
        self.app = FastAPI()

        @self.app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH"])
        async def anything(request: Request, path: str) -> JSONResponse:
            body = json.loads(await request.body() or b"null")
            self.calls.append((request.method, f"/v1/{path}", body))
            if request.method != "GET":
                if self.refusal:
                    return JSONResponse(self.refusal, 422, media_type="application/problem+json")
                return JSONResponse({"id": "x", "status": "ok", "until": None})
            if path == "orders":
                return JSONResponse({"items": self.orders, "next_cursor": None})
            if path.startswith("orders/") and path.count("/") == 1:
                return JSONResponse(self.orders[0])
            return JSONResponse({"items": [], "next_cursor": None})

    def sent(self, method: str) -> list[tuple[str, str, Any]]:
        return [call for call in self.calls if call[0] == method]


@pytest.fixture
async def orders_service(gateway):
    orders = Orders()
    await gateway.upstreams.clients["orders"].aclose()
    gateway.upstreams.clients["orders"] = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=orders.app), base_url="http://orders"
    )
    return orders


@pytest.fixture
async def portal_app(gateway, db, clock, orders_service):
    app = FastAPI()
    install_problem_handlers(app)
    api.install(app, gateway)
    install(app, db, settings=PortalSettings(), clock=clock)
    app.add_middleware(SecurityHeaders)
    return app


async def principal(client: httpx.AsyncClient, role: str, name: str) -> dict[str, Any]:
    answer = await client.post(
        "/v1/principals",
        json={"role": role, "name": name, "email": f"{role}@example.com"},
        headers=bearer(OPERATOR_TOKEN),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


@asynccontextmanager
async def browser_of(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as browser:
        form = await browser.get("/portal/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf, form.text
        signed = await browser.post("/portal/sign-in", data={"token": token, "csrf": csrf.group(1)})
        assert signed.status_code == 303
        yield browser


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action` on the page."""
    form = page[page.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


@pytest.fixture
async def parties(portal_app, orders_service):
    transport = httpx.ASGITransport(app=portal_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        buyer = await principal(client, "buyer", "Bea Buyer")
        seller = await principal(client, "seller", f"Sam {HOSTILE}")
    orders_service.orders = [an_order(buyer["id"], seller["id"])]
    return buyer, seller


async def test_each_party_reads_the_item_the_other_party_and_the_seller_where_to_ship(
    portal_app, parties
):
    buyer, seller = parties
    async with browser_of(portal_app, seller["token"]) as as_seller:
        page = (await as_seller.get("/portal/orders/ord_1")).text
    assert "<h1>Leica M6" in page and 'bought by <strong class="party">Bea Buyer</strong>' in page
    assert "Ship to" in page and "Keizersgracht 1" in page
    assert "Ship this order" in page
    async with browser_of(portal_app, buyer["token"]) as as_buyer:
        page = (await as_buyer.get("/portal/orders/ord_1")).text
    assert "sold by" in page and "Sam &lt;script&gt;" in page and "<script>" not in page
    assert "The seller is preparing your order" in page
    assert "145.00 EUR on hold, not charged." in page


async def test_an_irreversible_action_reaches_the_api_only_from_its_confirmation_step(
    portal_app, parties, orders_service
):
    buyer, _ = parties
    orders_service.orders[0]["allowed_actions"] = ["confirm_receipt"]
    orders_service.orders[0]["status"] = "delivered"
    async with browser_of(portal_app, buyer["token"]) as as_buyer:
        page = (await as_buyer.get("/portal/orders/ord_1")).text
        assert "This pays the seller" in page
        hidden = form_fields(page, "/portal/orders/ord_1/confirm_receipt")
        one_click = await as_buyer.post("/portal/orders/ord_1/confirm_receipt", data=hidden)
        assert one_click.status_code == 303 and "confirm+it+first" in one_click.headers["location"]
        assert orders_service.sent("POST") == []
        confirmed = await as_buyer.post(
            "/portal/orders/ord_1/confirm_receipt", data=hidden | {"confirmed": "yes"}
        )
        assert "done" in confirmed.headers["location"]
    assert [path for _, path, _ in orders_service.sent("POST")] == [
        "/v1/orders/ord_1/confirm-receipt"
    ]


async def test_a_refused_form_comes_back_filled_with_the_errors_by_their_fields(
    portal_app, parties, orders_service
):
    buyer, _ = parties
    orders_service.orders[0] |= {"status": "completed", "allowed_actions": ["review"]}
    orders_service.refusal = {
        "type": "/problems/validation-error",
        "title": "Invalid request",
        "status": 422,
        "detail": "see errors",
        "errors": [{"loc": ["body", "text"], "msg": "Value error, too long to be a review"}],
    }
    async with browser_of(portal_app, buyer["token"]) as as_buyer:
        page = (await as_buyer.get("/portal/orders/ord_1")).text
        hidden = form_fields(page, "/portal/orders/ord_1/review")
        answer = await as_buyer.post(
            "/portal/orders/ord_1/review", data=hidden | {"rating": "2", "text": "Slow & <b>"}
        )
    assert answer.status_code == 422
    assert "Value error, too long to be a review" in answer.text and "see errors" not in answer.text
    assert "Slow &amp; &lt;b&gt;</textarea>" in answer.text
    assert '<option value="2" selected>' in answer.text


async def test_dates_follow_the_zone_the_reader_chose(portal_app, parties):
    _, seller = parties
    async with browser_of(portal_app, seller["token"]) as as_seller:
        assert "Fri 27 Nov 2026, 23:30 UTC" in (await as_seller.get("/portal/orders/ord_1")).text
        settings = (await as_seller.get("/portal/settings")).text
        assert 'action="/portal/settings"' in settings, settings
        csrf = form_fields(settings, "/portal/settings")["csrf"]
        bad = await as_seller.post("/portal/settings", data={"csrf": csrf, "tz": "../etc/passwd"})
        assert "mkt_tz" not in bad.headers.get("set-cookie", "")
        await as_seller.post("/portal/settings", data={"csrf": csrf, "tz": "Europe/Amsterdam"})
        page = (await as_seller.get("/portal/orders/ord_1")).text
    assert f'<time datetime="{SHIP_BY}">Sat 28 Nov 2026, 00:30 CET</time>' in page


async def test_the_sellers_queue_is_ordered_by_urgency_with_inline_actions(
    portal_app, parties, orders_service
):
    _, seller = parties
    first = orders_service.orders[0]
    orders_service.orders = [
        first | {"id": "ord_new", "status": "awaiting_seller", "allowed_actions": ["accept"]},
        first | {"id": "ord_late", "timeline": [{"at": SHIP_BY, "kind": "shipment_overdue"}]},
        first | {"id": "ord_dispute", "status": "disputed", "allowed_actions": []},
    ]
    async with browser_of(portal_app, seller["token"]) as as_seller:
        page = (await as_seller.get("/portal/orders")).text
        order_of_groups = [page.index(t) for t in ("Needs attention", "Overdue", "To accept")]
        assert order_of_groups == sorted(order_of_groups)
        assert '<tr class="overdue">' in page and "Bea Buyer" in page
        hidden = form_fields(page, "/portal/orders/ord_new/accept")
        accepted = await as_seller.post("/portal/orders/ord_new/accept", data=hidden)
    assert accepted.headers["location"].startswith("/portal/orders?notice=")
    assert orders_service.sent("POST")[-1][1] == "/v1/orders/ord_new/accept"


async def test_a_seller_lists_in_the_currencys_units_and_goes_on_vacation(
    portal_app, parties, orders_service
):
    _, seller = parties
    async with browser_of(portal_app, seller["token"]) as as_seller:
        page = (await as_seller.get("/portal/listings")).text
        hidden = form_fields(page, "/portal/listings")
        listing = {"title": "Leica M6", "currency": "EUR", "quantity_available": "1"}
        listing |= {"fulfilment": "seller_ships", "handling_days": "2"}
        bad = await as_seller.post("/portal/listings", data=hidden | listing | {"price": "12.345"})
        assert "positive+amount+in+EUR" in bad.headers["location"]
        assert orders_service.sent("POST") == []
        await as_seller.post("/portal/listings", data=hidden | listing | {"price": "1,450.50"})
        vacation = form_fields(page, "/portal/vacation")
        await as_seller.post("/portal/vacation", data=vacation | {"until": "2026-12-24"})
    created = orders_service.sent("POST")[0][2]
    assert created["price"] == {"amount_minor": 145050, "currency": "EUR"}
    assert orders_service.sent("PUT")[0][1:] == ("/v1/sellers/me/vacation", {"until": "2026-12-24"})
