"""The portal's pure parts: forms become the API's bodies, money and metrics read as people
expect, lag adds up per topic; every template escapes; sessions, CSRF and security headers on
the gateway in-process. (The pages themselves are tested in a real browser in
tests/test_portal_browser.py.)"""

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway import api
from gateway.portal import SecurityHeaders, install
from gateway.portal.forms import ORDER_ACTIONS, RESOLUTIONS, body_of, resolution_of, utc
from gateway.portal.settings import PortalSettings
from gateway.portal.views import TEMPLATES_DIR, lag_rows, metric_rows, money, templates, when
from servicekit.hosting.http import install_problem_handlers

from gateway_test_helpers import OPERATOR_TOKEN


def test_a_form_becomes_the_body_the_api_takes():
    review = ORDER_ACTIONS["review"]
    assert body_of(review.fields, {"rating": "4", "text": " Good ", "csrf": "x"}) == {
        "rating": 4,
        "text": "Good",
    }
    ship = ORDER_ACTIONS["ship"]
    assert body_of(
        ship.fields, {"carrier": "DHL", "tracking_number": "T1", "transfer_reference": ""}
    ) == {
        "carrier": "DHL",
        "tracking_number": "T1",
    }


def test_every_action_the_order_view_names_has_a_form():
    named = {
        "accept",
        "decline",
        "ship",
        "cancel",
        "change_address",
        "redeliver",
        "confirm_receipt",
        "report_problem",
        "return",
        "exchange",
        "review",
        "message",
    }
    assert set(ORDER_ACTIONS) == named


def test_money_is_shown_from_minor_units():
    assert money({"amount_minor": 123456, "currency": "EUR"}) == "1,234.56 EUR"
    assert money({"amount_minor": 5, "currency": "USD"}) == "0.05 USD"
    assert money(None) == "-"


def test_money_is_shown_in_the_currencys_own_decimals():
    assert money({"amount_minor": 5000, "currency": "JPY"}) == "5,000 JPY"
    assert money({"amount_minor": -150, "currency": "EUR"}) == "-1.50 EUR"
    assert money({"amount_minor": 1500, "currency": "KWD"}) == "1.500 KWD"


def test_a_yen_order_reads_in_whole_yen_on_its_page():
    order = {"id": "ord_1", "status": "placed", "quantity": 1, "listing_id": "lst_1"}
    order |= {"total": {"amount_minor": 5000, "currency": "JPY"}, "fulfilment": "seller_ships"}
    me = {"id": "prn_1", "role": "buyer", "name": "Bea"}
    page = templates.get_template("portal/order.html").render(
        me=me, csrf="c", form_key="k", order=order, actions=[], messages=[]
    )
    assert "5,000 JPY" in page


def test_a_sellers_payouts_page_reads_in_money_and_says_what_to_do_without_an_account():
    me = {"id": "prn_1", "role": "seller", "name": "Sam"}
    eur = {"currency": "EUR"}
    balance = eur | {
        "in_escrow": {"amount_minor": 12500, "currency": "EUR"},
        "available": {"amount_minor": 11250, "currency": "EUR"},
        "paid_out": {"amount_minor": 0, "currency": "EUR"},
    }
    payout = {
        "amount": {"amount_minor": 11250, "currency": "EUR"},
        "status": "paid",
        "order_ids": ["ord_1"],
        "created_at": "2026-12-01T10:00:00Z",
        "paid_at": "2026-12-01T10:00:05Z",
    }
    template = templates.get_template("portal/payouts.html")

    without = template.render(
        me=me, csrf="c", form_key="k", account=None, balances=[balance], payouts=[payout]
    )
    pending = template.render(
        me=me,
        csrf="c",
        form_key="k",
        account={"status": "pending", "onboarding_url": "https://connect.example/onboard"},
        balances=[],
        payouts=[],
    )

    assert "no payout account yet" in without
    assert "125.00 EUR" in without and "112.50 EUR" in without
    assert "Tue 01 Dec 2026, 10:00 UTC" in without
    assert 'href="https://connect.example/onboard"' in pending and "pending" in pending
    assert "No payouts yet." in pending


def test_a_metric_misses_its_target_only_once_it_is_judged():
    rows = metric_rows(
        {
            "on_time_shipping_rate": {
                "value": 0.5,
                "threshold": 0.95,
                "direction": "at_least",
                "judged": True,
                "sample_size": 10,
                "orders": ["ord_1"],
            },
            "defect_rate": {
                "value": 0.5,
                "threshold": 0.02,
                "direction": "at_most",
                "judged": False,
                "sample_size": 2,
                "orders": [],
            },
            "average_rating": {
                "value": 4.25,
                "threshold": 4.0,
                "direction": "at_least",
                "judged": True,
                "sample_size": 4,
                "orders": [],
            },
        }
    )
    shown = {row["name"]: row for row in rows}
    assert (shown["on time shipping rate"]["value"], shown["on time shipping rate"]["target"]) == (
        "50%",
        "≥ 95%",
    )
    assert shown["on time shipping rate"]["missed"] is True
    assert shown["defect rate"]["missed"] is False  # two orders are too few to judge
    assert (shown["average rating"]["value"], shown["average rating"]["missed"]) == ("4.2", False)


def test_lag_is_summed_per_group_and_topic():
    rows = lag_rows(
        {
            "groups": [
                {
                    "group": "payments",
                    "partitions": [
                        {"topic": "orders.events", "partition": 0, "lag": 2},
                        {"topic": "orders.events", "partition": 1, "lag": 3},
                        {"topic": "support.events", "partition": 0, "lag": 0},
                    ],
                }
            ]
        }
    )
    assert rows == [
        {"group": "payments", "topic": "orders.events", "lag": 5, "partitions": 2},
        {"group": "payments", "topic": "support.events", "lag": 0, "partitions": 1},
    ]


def test_a_datetime_local_field_is_read_as_utc():
    assert utc("2026-12-01T09:30") == "2026-12-01T09:30:00Z"


# --- Escaping, headers and sessions, on the gateway in-process (no other service) ---

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)></textarea><b>'
MARKUP = ("<script", "<img", "</textarea><b>", "<b>")


def hostile_order(order_id: str = "ord_1") -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "disputed",
        "quantity": 1,
        "listing_id": HOSTILE,
        "total": {"amount_minor": 12500, "currency": HOSTILE},
        "fulfilment": "seller_ships",
        "steps": [{"name": HOSTILE, "state": "current", "message": HOSTILE, "done_at": HOSTILE}],
        "allowed_actions": list(ORDER_ACTIONS),
        "payment": {"state": HOSTILE},
        "shipment": {"carrier": HOSTILE, "tracking_number": HOSTILE},
        "tickets": [{"id": "tkt_1", "reason": HOSTILE, "status": HOSTILE}],
        "timeline": [{"at": HOSTILE, "kind": HOSTILE, "detail": HOSTILE}],
        "shipping_address": {key: HOSTILE for key in ("name", "line1", "city", "postal_code")},
    }


def every_page() -> dict[str, dict[str, Any]]:
    """Each portal template with hostile text in every field a user could have written."""
    me = {"id": "prn_1", "role": "agent", "name": HOSTILE}
    ticket = {
        "id": "tkt_1",
        "title": HOSTILE,
        "subject": HOSTILE,
        "status": "open",
        "reason": HOSTILE,
        "priority": HOSTILE,
        "opened_by": HOSTILE,
        "order_id": "ord_1",
        "sla": {"first_response_due": HOSTILE, "resolution_due": HOSTILE},
        "messages": [{"author_role": HOSTILE, "body": HOSTILE, "at": HOSTILE, "internal": True}],
        "resolution": {"action": HOSTILE, "note": HOSTILE},
    }
    common = {"me": me, "csrf": HOSTILE, "form_key": HOSTILE, "notice": HOSTILE, "error": HOSTILE}
    return {
        "orders.html": common
        | {"orders": [hostile_order()], "groups": {HOSTILE: [hostile_order()]}, "role": "seller"},
        "order.html": common
        | {
            "order": hostile_order(),
            "actions": list(ORDER_ACTIONS.values()),
            "messages": [{"sender_role": HOSTILE, "sent_at": HOSTILE, "body": HOSTILE}],
        },
        "ticket.html": common
        | {"ticket": ticket, "order": hostile_order(), "actions": RESOLUTIONS},
        "tickets.html": common | {"tickets": [ticket | {"kind": HOSTILE}]},
        "notifications.html": common
        | {
            "notifications": [
                {"id": HOSTILE, "title": HOSTILE, "body": HOSTILE, "order_id": HOSTILE}
            ]
        },
        "credits.html": common
        | {"credits": {"balances": [], "entries": [{"at": HOSTILE, "reason": HOSTILE}]}},
        "standards.html": common
        | {
            "standards": {
                "standing": HOSTILE,
                "score": HOSTILE,
                "history": [
                    {"at": HOSTILE, "previous": HOSTILE, "standing": HOSTILE, "reason": HOSTILE}
                ],
            },
            "metrics": [
                {
                    "name": HOSTILE,
                    "value": HOSTILE,
                    "target": HOSTILE,
                    "sample": 1,
                    "missed": True,
                    "orders": [HOSTILE],
                }
            ],
        },
        "payouts.html": common
        | {
            "account": {"status": HOSTILE, "onboarding_url": HOSTILE},
            "balances": [{"currency": HOSTILE}],
            "payouts": [{"created_at": HOSTILE, "status": HOSTILE, "order_ids": [HOSTILE]}],
        },
        "ops.html": common
        | {
            "lags": [{"group": HOSTILE, "topic": HOSTILE, "partitions": 1, "lag": 1}],
            "letters": [
                {
                    "id": HOSTILE,
                    "at": HOSTILE,
                    "group": HOSTILE,
                    "type": HOSTILE,
                    "reason": HOSTILE,
                    "error": HOSTILE,
                }
            ],
            "standings": [HOSTILE],
        },
        "sign_in.html": {"csrf": HOSTILE, "error": HOSTILE, "notice": HOSTILE},
        "message.html": {"message": HOSTILE, "me": None},
    }


def test_every_template_escapes_whatever_its_name():
    assert templates.env.autoescape is True
    shipped = {path.name for path in (TEMPLATES_DIR / "portal").glob("[!_]*")}
    assert shipped == set(every_page())
    for name, context in every_page().items():
        page = templates.get_template(f"portal/{name}").render(context)
        assert "&lt;script&gt;" in page, name
        for markup in MARKUP:
            assert markup not in page, (name, markup)


@pytest.fixture
def portal_app(gateway, db, clock):
    app = FastAPI()
    install_problem_handlers(app)
    api.install(app, gateway)
    install(app, db, settings=PortalSettings(idle_minutes=30, absolute_hours=12), clock=clock)
    app.add_middleware(SecurityHeaders)
    return app


@pytest.fixture
async def browser(portal_app):
    transport = httpx.ASGITransport(app=portal_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def sign_in(browser: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await browser.get("/portal/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    return await browser.post("/portal/sign-in", data={"token": token, "csrf": csrf.group(1)})


def page_csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_the_session_cookie_is_a_new_random_id_not_the_token(browser):
    answer = await sign_in(browser, OPERATOR_TOKEN)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal"
    first = browser.cookies["mkt_session"]
    assert OPERATOR_TOKEN not in first and OPERATOR_TOKEN not in answer.headers["set-cookie"]
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/portal" in cookie
    assert "secure" not in cookie  # plain http here
    csrf = page_csrf(await browser.get("/portal/notifications"))
    await sign_in(browser, OPERATOR_TOKEN)
    second = browser.cookies["mkt_session"]
    assert second != first
    assert page_csrf(await browser.get("/portal/notifications")) != csrf
    browser.cookies.set("mkt_session", first, path="/portal")
    assert (await browser.get("/portal/notifications")).status_code == 303  # the old one ended


async def test_signing_out_ends_the_session_and_needs_the_csrf_token(browser):
    await sign_in(browser, OPERATOR_TOKEN)
    session = browser.cookies["mkt_session"]
    forged = await browser.post("/portal/sign-out", data={})
    assert forged.status_code == 403
    assert (await browser.get("/portal/notifications")).status_code == 200
    csrf = page_csrf(await browser.get("/portal/notifications"))
    out = await browser.post("/portal/sign-out", data={"csrf": csrf})
    assert out.status_code == 303
    browser.cookies.set("mkt_session", session, path="/portal")
    answer = await browser.get("/portal/notifications")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/portal/sign-in")


async def test_sign_in_without_its_csrf_token_is_refused(browser):
    answer = await browser.post("/portal/sign-in", data={"token": OPERATOR_TOKEN})
    assert answer.status_code == 403
    assert "mkt_session" not in browser.cookies


async def test_a_session_expires_when_idle_and_at_its_absolute_age(browser, clock):
    await sign_in(browser, OPERATOR_TOKEN)
    clock.advance(29 * 60)
    assert (await browser.get("/portal/notifications")).status_code == 200
    clock.advance(31 * 60)
    assert (await browser.get("/portal/notifications")).status_code == 303
    await sign_in(browser, OPERATOR_TOKEN)
    for _ in range(12 * 3):  # used every 20 minutes, it still ends after 12 hours
        clock.advance(20 * 60)
        answer = await browser.get("/portal/notifications")
    assert answer.status_code == 303


async def test_a_revoked_token_ends_its_sessions(browser, client, buyer):
    await sign_in(browser, buyer["Authorization"].removeprefix("Bearer "))
    assert (await browser.get("/portal/notifications")).status_code == 200
    assert (await client.delete("/v1/me/token", headers=buyer)).status_code == 204
    assert (await browser.get("/portal/notifications")).status_code == 303


async def test_the_cookie_is_secure_over_tls(portal_app):
    transport = httpx.ASGITransport(app=portal_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://gateway") as tls:
        answer = await sign_in(tls, OPERATOR_TOKEN)
    assert "secure" in answer.headers["set-cookie"].lower()


async def test_sign_in_shows_only_its_own_words(browser):
    page = await browser.get("/portal/sign-in", params={"error": HOSTILE, "notice": "Call us"})
    assert page.status_code == 200
    assert "alert" not in page.text and "Call us" not in page.text
    page = await browser.get("/portal/sign-in", params={"error": "invalid"})
    assert "That token is not valid." in page.text


async def test_a_signed_in_page_shows_no_unsigned_message(browser):
    await sign_in(browser, OPERATOR_TOKEN)
    page = await browser.get("/portal/notifications", params={"error": "Wire 500 EUR to X"})
    assert page.status_code == 200 and "Wire 500" not in page.text


async def test_portal_pages_carry_the_security_headers(browser):
    for page in (await browser.get("/portal/sign-in"), await browser.get("/v1/me")):
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    await sign_in(browser, OPERATOR_TOKEN)
    page = await browser.get("/portal/notifications")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_the_resolve_form_has_no_default_and_reads_amounts_carefully():
    assert isinstance(resolution_of({"note": ""}), str)  # no action chosen: nothing happens
    assert isinstance(resolution_of({"action": "credit"}), str)  # a credit needs an amount
    assert isinstance(resolution_of({"action": "credit", "amount_minor": "12abc"}), str)
    assert isinstance(resolution_of({"action": "credit", "amount_minor": "²"}), str)
    assert resolution_of({"action": "credit", "amount_minor": "500", "currency": "EUR"}) == {
        "action": "credit",
        "note": "",
        "amount": {"amount_minor": 500, "currency": "EUR"},
    }
    assert body_of(ORDER_ACTIONS["review"].fields, {"rating": "²"}) == {"rating": "²"}


def test_odd_values_from_the_api_are_shown_not_raised():
    assert when("not a date") == "not a date"
    assert money({"amount_minor": "x", "currency": "EUR"}) == "-"
