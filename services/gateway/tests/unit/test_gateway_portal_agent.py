"""The agent's workspace without a server: the queue's views, SLA targets as countdowns, the
complaint, what can still be refunded, the resolve form (no default, only what fits, amounts
in the currency's units and capped) and the pages that show them."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from gateway.portal import agent
from gateway.portal.views import templates

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ORDER = {
    "id": "ord_1",
    "title": "Leica M6 camera",
    "status": "disputed",
    "quantity": 1,
    "unit_price": {"amount_minor": 7990, "currency": "EUR"},
    "total": {"amount_minor": 7990, "currency": "EUR"},
    "payment": {
        "state": "captured",
        "captured": {"amount_minor": 7990, "currency": "EUR"},
        "refunded": {"amount_minor": 990, "currency": "EUR"},
    },
}
TICKET = {
    "id": "tkt_1",
    "subject": "The lens is scratched",
    "status": "open",
    "reason": "not_as_described",
    "priority": "high",
    "buyer_id": "usr_b",
    "seller_id": "usr_s",
    "order_id": "ord_1",
    "opened_at": (NOW - timedelta(hours=30)).isoformat(),
    "sla": {
        "first_response_due": (NOW - timedelta(hours=2, minutes=5)).isoformat(),
        "resolution_due": (NOW + timedelta(days=1, hours=3)).isoformat(),
        "first_responded_at": None,
        "breached": True,
    },
    "messages": [
        {
            "author_id": "usr_a",
            "author_role": "agent",
            "body": "Looking",
            "internal": True,
            "at": NOW.isoformat(),
        },
        {
            "author_id": "usr_b",
            "author_role": "buyer",
            "body": "Scratched, not mint.",
            "internal": False,
            "at": NOW.isoformat(),
        },
    ],
    "possible_resolutions": ["refund", "partial_refund", "no_action"],
}


def test_a_target_reads_as_a_countdown_and_a_missed_one_as_overdue():
    assert agent.countdown(NOW + timedelta(hours=3, minutes=20), NOW) == agent.Countdown(
        (NOW + timedelta(hours=3, minutes=20)).isoformat(), "in 3 h 20 min", False
    )
    late = agent.countdown((NOW - timedelta(hours=2, minutes=5)).isoformat(), NOW)
    assert late is not None and (late.text, late.overdue) == ("2 h 5 min overdue", True)
    assert agent.countdown(NOW + timedelta(days=2, hours=1), NOW).text == "in 2 d 1 h"
    assert agent.countdown(None, NOW) is None and agent.countdown("soon", NOW) is None
    assert (
        agent.sla_of(TICKET | {"sla": {"first_responded_at": "x"}}, NOW)["first_response"] is None
    )


def test_the_complaint_is_the_first_thing_a_party_wrote_never_a_note():
    assert agent.complaint(TICKET)["body"] == "Scratched, not mint."
    only_system = {
        "messages": [{"author_role": "system", "body": "No tracking", "internal": False}]
    }
    assert agent.complaint(only_system)["body"] == "No tracking"
    assert agent.complaint({"messages": [TICKET["messages"][0]]}) is None
    reported = TICKET | {"context": {"details": "The lens is scratched."}}
    assert agent.complaint(reported) == {
        "author_id": "usr_b",
        "author_role": "buyer",
        "body": "The lens is scratched.",
        "at": TICKET["opened_at"],
    }


def test_what_can_be_refunded_is_what_was_paid_less_what_came_back():
    assert agent.refundable(ORDER) == 7000
    assert agent.refundable({"total": {"amount_minor": 500, "currency": "EUR"}}) == 500
    assert agent.refundable(None) is None


POSSIBLE = ["refund", "partial_refund", "credit", "no_action"]


def test_a_resolution_has_no_default_and_must_fit_the_ticket():
    assert "no default" in agent.resolution_body({}, POSSIBLE, "EUR", 7000)
    assert "does not fit" in agent.resolution_body({"action": "reship"}, POSSIBLE, "EUR", 7000)
    assert agent.resolution_body({"action": "bogus"}, POSSIBLE, "EUR", 7000) == (
        "Choose what to do: there is no default resolution."
    )


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("1,234.5", "EUR", 123450),
        ("5000", "JPY", 5000),
        ("70", "EUR", 7000),
    ],
)
def test_amounts_are_typed_in_the_currencys_units(typed, currency, minor):
    body = agent.resolution_body(
        {"action": "partial_refund", "amount": typed, "note": " n "}, POSSIBLE, currency, 10**9
    )
    assert body == {
        "action": "partial_refund",
        "note": "n",
        "amount": {"amount_minor": minor, "currency": currency},
    }


@pytest.mark.parametrize("typed", ["", "0", "-5", "12.505", "1e3", "12,50 EUR", "abc"])
def test_an_amount_that_is_not_one_is_refused(typed):
    refused = agent.resolution_body({"action": "credit", "amount": typed}, POSSIBLE, "EUR", 7000)
    assert isinstance(refused, str) and "12.50" in refused


def test_a_refund_is_capped_by_what_can_be_refunded():
    over = agent.resolution_body(
        {"action": "partial_refund", "amount": "70.01"}, POSSIBLE, "EUR", 7000
    )
    assert over == "At most 70.00 EUR can be refunded."
    assert agent.resolution_body({"action": "refund"}, POSSIBLE, "EUR", 7000) == {
        "action": "refund",
        "note": "",
    }


def test_the_confirmation_says_what_the_resolution_will_do():
    partial = {"action": "partial_refund", "amount": {"amount_minor": 1250, "currency": "EUR"}}
    assert "The buyer gets back 12.50 EUR" in agent.consequence(partial, "EUR", 7000)
    assert "(70.00 EUR)" in agent.consequence({"action": "refund"}, "EUR", 7000)
    assert "seller is paid" in agent.consequence({"action": "no_action"}, "EUR", 7000)


def render(name, **context):
    base = {"me": {"id": "usr_a", "role": "agent", "name": "Ann"}, "csrf": "c", "form_key": "k"}
    return templates.get_template(f"portal/{name}").render(base | context)


def test_the_agents_ticket_page_shows_the_complaint_parties_order_sla_and_fitting_actions():
    page = render(
        "ticket.html",
        ticket=TICKET,
        order=ORDER,
        names={"usr_b": "Bea Buyer", "usr_s": "Sam Seller"},
        complaint=agent.complaint(TICKET),
        sla=agent.sla_of(TICKET, NOW),
        choices=agent.choices(TICKET["possible_resolutions"]),
        currency="EUR",
        cap=agent.refundable(ORDER),
    )
    assert "<h1>The lens is scratched" in page
    assert "Scratched, not mint." in page.split("The complaint")[1].split("</section>")[0]
    assert "Bea Buyer" in page and "Sam Seller" in page
    assert "Leica M6 camera" in page and "1 \u00d7 79.90 EUR = 79.90 EUR" in page
    assert '<dd class="overdue">2 h 5 min overdue' in page and "in 1 d 3 h" in page
    assert "70.00 EUR can still be refunded" in page
    for kind in ("buyer", "seller", "internal"):
        assert f'name="kind" value="{kind}"' in page
    radios = re.findall(r'name="action" value="([a-z_]+)"', page)
    assert radios == ["refund", "partial_refund", "no_action"]
    assert "checked" not in page and "selected" not in page  # no default resolution
    assert "Amount in EUR, such as 12.50" in page


def test_a_ticket_about_a_seller_has_no_reply_to_a_buyer():
    seller_ticket = TICKET | {"buyer_id": None, "order_id": None}
    page = render(
        "ticket.html",
        ticket=seller_ticket,
        order=None,
        names={},
        complaint=None,
        sla=agent.sla_of(seller_ticket, NOW),
        choices=[],
        currency="EUR",
        cap=None,
    )
    assert 'value="buyer"' not in page and 'value="seller"' in page


def test_the_confirmation_step_sends_what_was_reviewed():
    body = {
        "action": "partial_refund",
        "note": "Half",
        "amount": {"amount_minor": 1250, "currency": "EUR"},
    }
    page = render(
        "ticket_confirm.html",
        ticket=TICKET,
        body=body,
        resolution=agent.RESOLUTIONS["partial_refund"],
        consequence=agent.consequence(body, "EUR", 7000),
        typed="12.50",
        key="key-1",
    )
    assert "The buyer gets back 12.50 EUR" in page
    for name, value in (
        ("action", "partial_refund"),
        ("amount", "12.50"),
        ("confirmed", "yes"),
        ("idempotency_key", "key-1"),
    ):
        assert f'name="{name}" value="{value}"' in page
    assert 'href="/portal/tickets/tkt_1"' in page


def test_a_rebook_is_on_one_of_the_tickets_alternatives():
    offered = [
        {
            "listing_id": "lst_2",
            "seller_id": "usr_x",
            "price": {"amount_minor": 1, "currency": "EUR"},
        }
    ]
    assert agent.resolution_body(
        {"action": "rebook", "listing_id": "lst_9"}, ["rebook"], "EUR", 1, offered
    ) == ("Choose one of the alternatives to rebook on.")
    body = agent.resolution_body(
        {"action": "rebook", "listing_id": "lst_2"}, ["rebook"], "EUR", 1, offered
    )
    assert body == {"action": "rebook", "note": "", "listing_id": "lst_2"}
    assert "a new order on lst_2" in agent.consequence(body, "EUR", 1)
