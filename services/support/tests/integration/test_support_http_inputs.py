"""Support's HTTP API against what a client may send (issue #16), on the service's own app with
the headers the gateway forwards, on SQLite and PostgreSQL: an absurd amount is invalid and
resolves nothing, a subject is one line of plain text, messages and notes are plain text that
may span lines, and a forged or damaged list cursor is a 422 problem, never a 500. (These were
end-to-end tests; nothing in them crosses a service.)"""

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from servicekit.hosting.http import install_problem_handlers
from support.api import install_api

from support_test_helpers import BUYER, EUR, deliver, new_order_id, paid, placed, published

AGENT = ("usr_agent", "agent")
THE_BUYER = (BUYER, "buyer")


@pytest.fixture
def app(ctx) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.internal_token = ""
    install_api(app, ctx)
    return app


async def call(
    app: FastAPI, who: tuple[str, str], method: str, path: str, body: Any = None, **kwargs: Any
) -> httpx.Response:
    headers = {"X-Principal-Id": who[0], "X-Principal-Role": who[1]}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://support", headers=headers
    ) as http:
        return await http.request(method, path, json=body, **kwargs)


async def question(ctx, app, subject: str = "About my order") -> dict[str, Any]:
    """The buyer's ticket on a paid order support knows."""
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await paid(ctx, order_id, capture=False)
    body = {"order_id": order_id, "subject": subject, "body": "Please help"}
    answer = await call(app, THE_BUYER, "POST", "/v1/tickets", body)
    assert answer.status_code == 201, answer.text
    return answer.json() | {"order_id": order_id}


def problem(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def resolutions(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """What support told payments to do: a credit is paid only on one of these."""
    return [data for kind, data in events if kind.startswith("ticket_resolved")]


@pytest.mark.parametrize(
    "amount",
    [
        {"amount_minor": 9_223_372_036_854_775_807, "currency": EUR},
        {"amount_minor": 10**30, "currency": EUR},
        {"amount_minor": "lots", "currency": EUR},
        {"amount_minor": 12.5, "currency": EUR},
    ],
    ids=["int64-max", "10e30", "not-a-number", "fraction"],
)
async def test_an_absurd_amount_is_invalid_and_nothing_is_credited(ctx, app, engine, amount):
    ticket = await question(ctx, app)
    body = {"action": "credit", "amount": amount, "note": "Sorry for the trouble"}

    answer = await call(app, AGENT, "POST", f"/v1/tickets/{ticket['id']}/resolve", body)

    problem(answer, 422)
    assert (await call(app, AGENT, "GET", f"/v1/tickets/{ticket['id']}")).json()[
        "status"
    ] != "resolved"
    assert resolutions(await published(engine)) == []


HOSTILE_LINES = {
    "crlf": "Refund\r\nBcc: everyone@example.com",
    "lf": "Refund\nplease",
    "bidi-override": "invoice\u202egpj.exe",
    "escape": "\x1b[2Jcleared",
}


@pytest.mark.parametrize("subject", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
async def test_a_ticket_subject_is_one_line_of_plain_text(ctx, app, subject):
    ticket = await question(ctx, app, "A fair question")  # support knows the order

    answer = await call(
        app,
        THE_BUYER,
        "POST",
        "/v1/tickets",
        {"order_id": ticket["order_id"], "subject": subject, "body": "Hello"},
    )

    problem(answer, 422)


async def test_messages_and_notes_are_plain_text_but_may_span_lines(ctx, app, engine):
    ticket = await question(ctx, app)
    path = f"/v1/tickets/{ticket['id']}"

    spans = await call(app, THE_BUYER, "POST", f"{path}/messages", {"body": "first\nsecond"})
    assert spans.status_code == 201, spans.text
    for body in ("\x1b]0;owned\x07", "look \u202eright"):
        problem(await call(app, THE_BUYER, "POST", f"{path}/messages", {"body": body}), 422)
        note = {"action": "no_action", "note": body}
        problem(await call(app, AGENT, "POST", f"{path}/resolve", note), 422)
    seen = (await call(app, AGENT, "GET", path)).json()
    assert seen["status"] != "resolved"
    assert [m["body"] for m in seen["messages"]] == ["Please help", "first\nsecond"]
    assert resolutions(await published(engine)) == []


def _cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("not-a-date", "tkt_1"),
        _cursor("2026-11-24T10:00:00", "tkt_1"),  # no time zone
        _cursor("9999-12-31T23:59:59-14:00", "tkt_1"),  # past year 9999 in UTC
        _cursor("2026-11-24T10:00:00+00:00", "tkt\x00"),
        _cursor("2026-11-24T10:00:00+00:00"),
        "%%%not-base64",
    ],
    ids=["bad-date", "naive-date", "overflowing-date", "nul-id", "one-part", "garbage"],
)
async def test_a_malformed_cursor_is_a_422_never_a_500(app, cursor):
    answer = await call(app, AGENT, "GET", "/v1/tickets", params={"cursor": cursor})

    problem(answer, 422)
