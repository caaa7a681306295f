"""The agent's and the operators' pages on the in-process gateway, with the services stood in
for by one app that answers what the pages read and records what they send: the queue's views
ask support for their statuses, a reply goes to one party or is a note, and a resolution
reaches support only from its confirmation step, in minor units, never above what can be
refunded; a payout run and an event's cancellation only from theirs."""

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway import api
from gateway.portal import SecurityHeaders, install
from servicekit.hosting.http import install_problem_handlers

from gateway_test_helpers import NOW, OPERATOR_TOKEN, bearer

TICKET = {
    "id": "tkt_1",
    "subject": "The lens is scratched",
    "status": "open",
    "reason": "not_as_described",
    "priority": "high",
    "buyer_id": "usr_b",
    "seller_id": "usr_s",
    "order_id": "ord_1",
    "opened_at": NOW.isoformat(),
    "sla": {"first_response_due": NOW.isoformat(), "resolution_due": NOW.isoformat()},
    "messages": [
        {
            "author_id": "usr_b",
            "author_role": "buyer",
            "body": "Scratched.",
            "internal": False,
            "at": NOW.isoformat(),
        }
    ],
    "possible_resolutions": ["refund", "partial_refund", "no_action"],
}
ORDER = {
    "id": "ord_1",
    "title": "Leica M6",
    "status": "disputed",
    "quantity": 1,
    "unit_price": {"amount_minor": 7990, "currency": "EUR"},
    "total": {"amount_minor": 7990, "currency": "EUR"},
    "payment": {"state": "captured", "captured": {"amount_minor": 7990, "currency": "EUR"}},
}


PAYOUT = {
    "id": "po_1",
    "seller_id": "usr_s",
    "amount": {"amount_minor": 7190, "currency": "EUR"},
    "status": "paid",
    "order_ids": ["ord_1"],
}
EVENT = {
    "id": "evt_1",
    "name": "Cup final",
    "venue": "Wembley",
    "kind": "ticket",
    "status": "scheduled",
    "local_starts_at": "2027-05-20T19:45:00+01:00",
    "local_ends_at": "2027-05-20T22:00:00+01:00",
    "listings": [],
}


class Behind:
    """Support and orders as the portal sees them: fixed answers, recorded requests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.app = FastAPI()

        @self.app.api_route("/v1/{path:path}", methods=["GET", "POST"])
        async def any_call(request: Request, path: str) -> JSONResponse:
            body = json.loads(await request.body() or b"null")
            self.sent.append((request.method, f"/v1/{path}?{request.url.query}", body))
            if path.startswith("tickets/tkt_1"):
                return JSONResponse(TICKET)
            if path == "tickets":
                return JSONResponse({"items": [TICKET]})
            if path.startswith("orders/ord_1"):
                return JSONResponse(ORDER)
            if path == "ops/payouts/run":
                return JSONResponse({"payouts": [PAYOUT], "paid": 1})
            if path.startswith("events/evt_1"):
                return JSONResponse(EVENT)
            if path == "events":
                return JSONResponse(EVENT, status_code=201)
            return JSONResponse({"items": []})

    def posted(self) -> list[tuple[str, Any]]:
        return [(path.split("?")[0], body) for method, path, body in self.sent if method == "POST"]


@pytest.fixture
def behind():
    return Behind()


@pytest.fixture
async def portal_app(gateway, db, clock, behind):
    for name, client in list(gateway.upstreams.clients.items()):
        await client.aclose()
        gateway.upstreams.clients[name] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=behind.app), base_url=f"http://{name}"
        )
    app = FastAPI()
    install_problem_handlers(app)
    api.install(app, gateway)
    install(app, db, clock=clock)
    app.add_middleware(SecurityHeaders)
    return app


async def signed_in(app: FastAPI, role: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    browser = httpx.AsyncClient(transport=transport, base_url="http://gateway")
    token = OPERATOR_TOKEN
    if role != "operator":
        made = await browser.post(
            "/v1/principals",
            json={"role": role, "name": "Ann Agent", "email": "ann@example.com"},
            headers=bearer(OPERATOR_TOKEN),
        )
        token = made.json()["token"]
    form = await browser.get("/portal/sign-in")
    await browser.post("/portal/sign-in", data={"token": token, "csrf": csrf_of(form)})
    return browser


@pytest.fixture
async def agent_browser(portal_app):
    browser = await signed_in(portal_app, "agent")
    yield browser
    await browser.aclose()


@pytest.fixture
async def operator_browser(portal_app):
    browser = await signed_in(portal_app, "operator")
    yield browser
    await browser.aclose()


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


pytestmark = pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)


async def test_the_queue_views_ask_support_for_their_statuses(agent_browser, behind):
    for view, statuses in (
        ("open", ["open", "escalated"]),
        ("pending", ["pending_buyer", "pending_seller"]),
    ):
        page = await agent_browser.get("/portal/tickets", params={"view": view})
        assert page.status_code == 200 and "The lens is scratched" in page.text
        asked = [p for m, p, _ in behind.sent if p.startswith("/v1/tickets?")][-1]
        assert parse_qs(urlsplit(asked).query)["status"] == statuses
        assert f'href="/portal/tickets?view={view}" aria-current="page"' in page.text
    mine = await agent_browser.get("/portal/tickets", params={"view": "mine"})
    assert "No tickets here." in mine.text  # this agent has written on none


async def test_replies_go_to_one_party_or_are_notes(agent_browser, behind):
    page = await agent_browser.get("/portal/tickets/tkt_1")
    assert page.status_code == 200
    for kind in ("seller", "buyer", "internal"):
        answer = await agent_browser.post(
            "/portal/tickets/tkt_1/reply",
            data={
                "csrf": csrf_of(page),
                "kind": kind,
                "body": f"to {kind}",
                "idempotency_key": kind,
            },
        )
        assert answer.status_code == 303
    assert behind.posted() == [
        ("/v1/tickets/tkt_1/messages", {"body": "to seller", "internal": False, "to": "seller"}),
        ("/v1/tickets/tkt_1/messages", {"body": "to buyer", "internal": False, "to": "buyer"}),
        ("/v1/tickets/tkt_1/messages", {"body": "to internal", "internal": True}),
    ]


async def test_a_resolution_is_sent_only_once_confirmed_in_minor_units_and_capped(
    agent_browser, behind
):
    page = await agent_browser.get("/portal/tickets/tkt_1")
    form = {"csrf": csrf_of(page), "idempotency_key": "k1", "note": "Half back"}

    empty = await agent_browser.post("/portal/tickets/tkt_1/resolve", data=form)
    assert empty.status_code == 303 and "no+default" in empty.headers["location"]
    over = await agent_browser.post(
        "/portal/tickets/tkt_1/resolve", data=form | {"action": "partial_refund", "amount": "80.00"}
    )
    assert "79.90+EUR" in over.headers["location"]  # at most what can be refunded
    review = await agent_browser.post(
        "/portal/tickets/tkt_1/resolve", data=form | {"action": "partial_refund", "amount": "12.50"}
    )
    assert review.status_code == 200 and "The buyer gets back 12.50 EUR" in review.text
    assert behind.posted() == []  # nothing is sent before the confirmation

    sent = await agent_browser.post(
        "/portal/tickets/tkt_1/resolve",
        data=form | {"action": "partial_refund", "amount": "12.50", "confirmed": "yes"},
    )
    assert sent.status_code == 303 and "Resolved" in sent.headers["location"]
    assert behind.posted() == [
        (
            "/v1/tickets/tkt_1/resolve",
            {
                "action": "partial_refund",
                "note": "Half back",
                "amount": {"amount_minor": 1250, "currency": "EUR"},
            },
        )
    ]


async def test_a_payout_run_is_sent_only_once_confirmed_and_shows_what_it_paid(
    operator_browser, behind
):
    page = await operator_browser.get("/portal/ops/payouts")
    assert page.status_code == 200 and "Run a payout now" in page.text
    form = {"csrf": csrf_of(page), "idempotency_key": "run-1"}
    review = await operator_browser.post("/portal/ops/payouts/run", data=form)
    assert review.status_code == 200 and "cannot be called back" in review.text
    assert behind.posted() == []
    ran = await operator_browser.post("/portal/ops/payouts/run", data=form | {"confirmed": "yes"})
    assert ran.status_code == 200 and "The run paid 1 payout: 71.90 EUR." in ran.text
    assert behind.posted() == [("/v1/ops/payouts/run", {})]


async def test_an_event_is_created_and_cancelled_only_once_confirmed(operator_browser, behind):
    page = await operator_browser.get("/portal/ops/events")
    form = {"csrf": csrf_of(page), "idempotency_key": "e-1"}
    made = await operator_browser.post(
        "/portal/ops/events/new",
        data=form
        | {
            "name": "Cup final",
            "venue": "Wembley",
            "kind": "ticket",
            "starts_at": "2027-05-20T19:45",
            "ends_at": "2027-05-20T22:00",
            "offset": "+01:00",
        },
    )
    assert made.status_code == 303 and made.headers["location"].startswith(
        "/portal/ops/events?id=evt_1&notice=Event+created"
    )
    shown = await operator_browser.get("/portal/ops/events", params={"id": "evt_1"})
    assert "Cup final" in shown.text and "Thu 20 May 2027, 19:45 UTC+01:00" in shown.text
    review = await operator_browser.post(
        "/portal/ops/events/evt_1/cancel", data=form | {"reason": "Storm"}
    )
    assert (
        review.status_code == 200 and "Every open order for Cup final is cancelled" in review.text
    )
    done = await operator_browser.post(
        "/portal/ops/events/evt_1/cancel",
        data=form | {"reason": "Storm", "confirmed": "yes", "idempotency_key": "e-2"},
    )
    assert done.status_code == 303
    assert [p for p, _ in behind.posted()] == ["/v1/events", "/v1/events/evt_1/cancel"]
    assert behind.posted()[0][1]["starts_at"] == "2027-05-20T19:45:00+01:00"
    assert behind.posted()[1][1] == {"reason": "Storm"}


async def test_operator_pages_are_for_operators(agent_browser):
    for path in ("/portal/ops/payouts", "/portal/ops/events"):
        refused = await agent_browser.get(path)
        assert refused.status_code == 403 and "for operators" in refused.text


async def test_a_replay_and_a_standing_decision_are_sent_only_once_confirmed(
    operator_browser, behind
):
    page = await operator_browser.get("/portal/notifications")
    form = {"csrf": csrf_of(page), "letter_id": "dl_1", "idempotency_key": "r-1"}
    review = await operator_browser.post("/portal/ops/replay", data=form)
    assert review.status_code == 200 and "delivered again" in review.text
    standing = {"csrf": csrf_of(page), "seller_id": "usr_s", "standing": "suspended", "reason": "x"}
    review = await operator_browser.post("/portal/ops/standing", data=standing)
    assert review.status_code == 200 and "cannot sell" in review.text
    assert behind.posted() == []  # (a replay itself goes to the broker, which is not here)
