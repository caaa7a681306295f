"""The operators' payouts and events without a server: a venue's time and offset become the
moment the API takes, each form its body or what is wrong with it, each irreversible step says
what it will do, and a payout run's answer reads as a sentence."""

import pytest

from gateway.portal import operator
from gateway.portal.views import templates

EVENT_FORM = {
    "name": "Cup final",
    "venue": "Wembley",
    "kind": "ticket",
    "starts_at": "2027-05-20T19:45",
    "ends_at": "2027-05-20T22:00",
    "offset": "+01:00",
}


def test_an_event_is_created_at_the_venues_time_and_offset():
    assert operator.new_event(EVENT_FORM) == {
        "name": "Cup final",
        "venue": "Wembley",
        "kind": "ticket",
        "starts_at": "2027-05-20T19:45:00+01:00",
        "ends_at": "2027-05-20T22:00:00+01:00",
    }


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"name": " "}, "name and a venue"),
        ({"kind": "concert"}, "tickets or hotel bookings"),
        ({"offset": "CET"}, "offset from UTC"),
        ({"offset": "+25:00"}, "offset from UTC"),
        ({"starts_at": "2027-05-20"}, "offset from UTC"),
        ({"ends_at": "2027-05-20T19:00"}, "end after it starts"),
    ],
)
def test_a_form_that_is_not_an_event_says_why(change, said):
    assert said in operator.new_event(EVENT_FORM | change)


def test_cancelling_needs_a_reason_and_postponing_new_dates():
    assert operator.event_step("cancel", {"reason": " Storm "}) == {"reason": "Storm"}
    assert "why" in operator.event_step("cancel", {"reason": ""})
    assert operator.event_step("postpone", EVENT_FORM) == {
        "starts_at": "2027-05-20T19:45:00+01:00",
        "ends_at": "2027-05-20T22:00:00+01:00",
    }


def test_each_irreversible_step_says_what_it_will_do():
    event = {"name": "Cup final"}
    assert "Every open order for Cup final is cancelled" in operator.event_consequence(
        "cancel", event, {"reason": "x"}
    )
    moved = operator.event_step("postpone", EVENT_FORM)
    assert "may cancel for a full refund" in operator.event_consequence("postpone", event, moved)
    assert "cannot be called back" in operator.PAYOUT_RUN_CONSEQUENCE


def test_a_payout_run_reads_as_a_sentence():
    eur = {"amount_minor": 1250, "currency": "EUR"}
    answer = {
        "payouts": [
            {"amount": eur},
            {"amount": eur},
            {"amount": {"amount_minor": 500, "currency": "JPY"}},
        ]
    }
    assert operator.payouts_paid(answer) == "The run paid 3 payouts: 25.00 EUR, 500 JPY."
    assert "paid nothing" in operator.payouts_paid({"payouts": []})


def test_the_confirmation_carries_the_form_again_with_confirmed():
    page = templates.get_template("portal/confirm.html").render(
        me={"role": "operator", "name": "Op"},
        csrf="c",
        heading="Cancel Cup final?",
        consequence="Every open order ...",
        fields={"reason": "Storm"},
        key="k-1",
        action="/portal/ops/events/evt_1/cancel",
        yes="Yes, cancel it",
        back_to="/portal/ops/events?id=evt_1",
    )
    for name, value in (("reason", "Storm"), ("confirmed", "yes"), ("idempotency_key", "k-1")):
        assert f'name="{name}" value="{value}"' in page
    assert 'action="/portal/ops/events/evt_1/cancel"' in page and "No, go back" in page


def test_an_event_reads_on_the_venues_clock_in_the_one_format():
    assert operator.venue_time("2027-05-20T19:45:00+01:00") == "Thu 20 May 2027, 19:45 UTC+01:00"
    assert operator.venue_time(None) == "-"
