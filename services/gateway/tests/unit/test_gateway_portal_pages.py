"""The portal's pages without a server: forms become the API's bodies, money and metrics read
as people expect, lag adds up per topic, each page says what it should, and every template
escapes whatever text it is given. (Sessions, CSRF and headers are in
integration/test_gateway_portal.py; the pages in a real browser in
tests/test_portal_browser_*.py.)"""

from typing import Any

from gateway.portal import agent
from gateway.portal.forms import ORDER_ACTIONS, body_of, utc
from gateway.portal.routes.orders import order_context
from gateway.portal.views import TEMPLATES_DIR, lag_rows, metric_rows, money, templates, when

from gateway_test_helpers import HOSTILE


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
        csrf="c", form_key="k", me=me, **order_context(order, me, {}, {}, [])
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
        | {
            "groups": [(HOSTILE, [hostile_order()])],
            "role": "seller",
            "names": {"prn_2": HOSTILE},
            "late": {"ord_1"},
            "ship": ORDER_ACTIONS["ship"],
        },
        "order.html": common
        | order_context(
            hostile_order() | {"event": {"name": HOSTILE, "venue": HOSTILE}},
            me,
            {"prn_2": HOSTILE},
            {"platform_fee": {"amount_minor": 1, "currency": HOSTILE}},
            [{"sender_role": HOSTILE, "sent_at": HOSTILE, "body": HOSTILE}],
            {"action": "review", "values": {"text": HOSTILE}, "errors": {"text": HOSTILE}},
        ),
        "listings.html": common
        | {
            "listings": [
                {
                    "id": HOSTILE,
                    "title": HOSTILE,
                    "price": {"amount_minor": 1, "currency": HOSTILE},
                    "status": HOSTILE,
                    "quantity_available": HOSTILE,
                }
            ],
            "fulfilments": {HOSTILE: HOSTILE},
            "currencies": [HOSTILE],
        },
        "settings.html": common | {"zones": [HOSTILE], "zone": HOSTILE},
        "error.html": common | {"title": HOSTILE, "message": HOSTILE, "back_to": HOSTILE},
        "ticket.html": common
        | {
            "ticket": ticket
            | {
                "buyer_id": "usr_b",
                "seller_id": "usr_s",
                "alternatives": [
                    {
                        "listing_id": HOSTILE,
                        "seller_id": "usr_s",
                        "price": {"amount_minor": 1, "currency": "EUR"},
                    }
                ],
            },
            "order": hostile_order(),
            "names": {"usr_b": HOSTILE, "usr_s": HOSTILE},
            "complaint": ticket["messages"][0],
            "sla": {"first_response": None, "resolution": None},
            "choices": list(agent.RESOLUTIONS.values()),
            "currency": HOSTILE,
            "cap": 1,
        },
        "confirm.html": common
        | {
            "heading": HOSTILE,
            "consequence": HOSTILE,
            "fields": {HOSTILE: HOSTILE},
            "key": HOSTILE,
            "action": HOSTILE,
            "yes": HOSTILE,
            "back_to": HOSTILE,
        },
        "ops_payouts.html": common
        | {
            "made": [
                {
                    "seller_id": HOSTILE,
                    "amount": {"amount_minor": 1, "currency": HOSTILE},
                    "status": HOSTILE,
                    "failure": HOSTILE,
                    "order_ids": [HOSTILE],
                }
            ]
        },
        "ops_events.html": common
        | {
            "event": {
                "id": HOSTILE,
                "name": HOSTILE,
                "venue": HOSTILE,
                "kind": HOSTILE,
                "status": HOSTILE,
                "starts": HOSTILE,
                "ends": HOSTILE,
                "local_ends_at": HOSTILE,
                "cancel_reason": HOSTILE,
                "listings": [],
            },
            "kinds": {HOSTILE: HOSTILE},
        },
        "ticket_confirm.html": common
        | {
            "ticket": ticket,
            "body": {"action": HOSTILE, "note": HOSTILE},
            "resolution": agent.RESOLUTIONS["refund"],
            "consequence": HOSTILE,
            "typed": HOSTILE,
            "key": HOSTILE,
        },
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


def test_a_rating_that_is_not_a_whole_number_is_left_for_the_api_to_refuse():
    # (the agent's resolve form is read by gateway.portal.agent: unit/test_gateway_portal_agent.py)
    assert body_of(ORDER_ACTIONS["review"].fields, {"rating": "²"}) == {"rating": "²", "text": ""}


def test_odd_values_from_the_api_are_shown_not_raised():
    assert when("not a date") == "not a date"
    assert money({"amount_minor": "x", "currency": "EUR"}) == "-"
