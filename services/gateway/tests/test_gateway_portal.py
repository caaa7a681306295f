"""The portal's pure parts: forms become the API's bodies, money and metrics read as people
expect, lag adds up per topic. (The pages themselves are tested in a real browser in
tests/test_portal_browser.py.)"""

from gateway.portal import ORDER_ACTIONS, body_of, lag_rows, metric_rows, money, utc


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
