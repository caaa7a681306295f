"""Support's pure rules for tickets: SLA clocks on the business calendar, opening, repeats,
breaches and escalation. No database."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from servicekit.domain.calendar import BusinessCalendar
from support.domain.tickets import (
    AUTOMATIC,
    DEFAULT_SLA,
    SYSTEM,
    SlaTargets,
    Status,
    breaches,
    escalate,
    post_message,
    repeat,
    sla_clock,
)

from support_test_helpers import (
    AGENT,
    CALENDAR,
    FRIDAY_4PM,
    SELLER,
    TUESDAY_10AM,
    at,
    resolved,
    seller_ticket,
    ticket,
)

# --- SLA clocks ---------------------------------------------------------------------------


def test_a_high_priority_ticket_opened_friday_afternoon_is_due_for_first_response_monday_noon():
    first_response, resolution = sla_clock("high", FRIDAY_4PM, CALENDAR)

    assert first_response == at(30, 12)  # 1h Friday + 3h Monday
    assert resolution == at(1, 16, month=12)  # 1h Friday + 8h Monday + 7h Tuesday


@pytest.mark.parametrize(
    ("priority", "first_response", "resolution"),
    [
        ("urgent", at(27, 17), at(30, 16)),
        ("high", at(30, 12), at(1, 16, month=12)),
        ("normal", at(30, 16), at(4, 16, month=12)),
        ("low", at(1, 16, month=12), at(11, 16, month=12)),
    ],
)
def test_each_priority_counts_its_targets_in_business_hours_across_the_weekend(
    priority, first_response, resolution
):
    assert sla_clock(priority, FRIDAY_4PM, CALENDAR) == (first_response, resolution)


@pytest.mark.parametrize(
    ("priority", "first_response", "resolution"),
    [
        ("urgent", at(24, 11), at(25, 10)),
        ("high", at(24, 14), at(26, 10)),
        ("normal", at(25, 10), at(1, 10, month=12)),
        ("low", at(26, 10), at(8, 10, month=12)),
    ],
)
def test_each_priority_counts_its_targets_from_the_middle_of_a_business_day(
    priority, first_response, resolution
):
    assert sla_clock(priority, TUESDAY_10AM, CALENDAR) == (first_response, resolution)


def test_a_holiday_does_not_count_toward_the_sla():
    with_holiday = BusinessCalendar(holidays=[date(2026, 11, 30)])

    first_response, resolution = sla_clock("high", FRIDAY_4PM, with_holiday)

    assert first_response == at(1, 12, month=12)  # Monday skipped: 1h Friday + 3h Tuesday
    assert resolution == at(2, 16, month=12)


def test_a_ticket_opened_on_the_weekend_starts_its_clock_on_monday_morning():
    saturday = at(28, 11)

    assert sla_clock("urgent", saturday, CALENDAR) == (at(30, 10), at(30, 17))


def test_a_ticket_opened_after_closing_time_starts_its_clock_the_next_business_morning():
    friday_evening = at(27, 18)

    first_response, _ = sla_clock("high", friday_evening, CALENDAR)

    assert first_response == at(30, 13)


def test_custom_sla_targets_replace_the_defaults():
    targets = DEFAULT_SLA | {"high": SlaTargets(first_response_hours=2, resolution_hours=6)}

    assert sla_clock("high", TUESDAY_10AM, CALENDAR, targets) == (at(24, 12), at(24, 16))

    t = ticket("damaged", targets=targets)
    assert (t.first_response_due, t.resolution_due) == (at(24, 12), at(24, 16))


def test_a_fractional_business_hour_target_is_honoured():
    targets = {"urgent": SlaTargets(first_response_hours=0.5, resolution_hours=1.5)}

    assert sla_clock("urgent", at(27, 16, 45), CALENDAR, targets) == (
        at(30, 9, 15),
        at(30, 10, 15),
    )


# --- Opening a ticket ----------------------------------------------------------------------


@pytest.mark.parametrize("reason", sorted(AUTOMATIC))
def test_an_automatic_reason_brings_its_priority_and_title(reason):
    priority, title = AUTOMATIC[reason]

    t = ticket(reason)

    assert t.priority == priority
    assert t.title == title
    assert (t.first_response_due, t.resolution_due) == sla_clock(priority, TUESDAY_10AM, CALENDAR)


def test_a_new_ticket_is_open_unanswered_and_unbreached():
    t = ticket("seller_backed_out")

    assert t.status is Status.OPEN
    assert t.is_open
    assert t.opened_by == SYSTEM
    assert t.opened_at == TUESDAY_10AM
    assert t.occurrences == 1
    assert t.first_responded_at is None
    assert not t.breached
    assert t.resolution is None
    assert t.context == {}


def test_a_custom_title_wins_over_the_default():
    t = ticket("problem_other", title="The box was empty")

    assert t.title == "The box was empty"
    assert t.priority == "normal"


def test_the_order_gives_the_ticket_its_order_buyer_and_currency():
    t = ticket(order={"order_id": "ord_9", "buyer_id": "usr_b9", "currency": "GBP"})

    assert t.order_id == "ord_9"
    assert t.buyer_id == "usr_b9"
    assert t.currency == "GBP"
    assert t.seller_id == SELLER


def test_a_ticket_about_a_seller_has_no_order_buyer_or_currency():
    t = seller_ticket()

    assert t.order_id is None
    assert t.buyer_id is None
    assert t.currency is None


def test_the_context_is_kept_on_the_ticket():
    t = ticket(context={"ship_by": "2026-11-20"})

    assert t.context == {"ship_by": "2026-11-20"}


def test_an_event_date_nearing_brings_the_resolution_forward():
    thursday_noon = at(26, 12)

    t = ticket("delivery_failed", respond_before=thursday_noon)  # normal: due Dec 1 10:00

    assert t.resolution_due == thursday_noon
    assert t.first_response_due == at(25, 10)  # still the normal 8 business hours


def test_an_event_date_after_the_sla_changes_nothing():
    t = ticket("delivery_failed", respond_before=at(10, 12, month=12))

    assert (t.first_response_due, t.resolution_due) == sla_clock("normal", TUESDAY_10AM, CALENDAR)


def test_the_first_response_is_never_due_after_the_resolution():
    this_afternoon = at(24, 14)

    t = ticket("delivery_failed", respond_before=this_afternoon)

    assert t.resolution_due == this_afternoon
    assert t.first_response_due == this_afternoon  # not Wednesday 10:00


@pytest.mark.parametrize(
    "respond_before",
    [at(24, 10, 20), at(24, 10), at(23, 10)],
    ids=["in twenty minutes", "now", "already past"],
)
def test_an_event_date_never_makes_the_resolution_due_sooner_than_an_hour_from_now(
    respond_before,
):
    t = ticket("not_received", respond_before=respond_before)

    assert t.resolution_due == TUESDAY_10AM + timedelta(hours=1)
    assert t.first_response_due == TUESDAY_10AM + timedelta(hours=1)


def test_an_event_date_never_pushes_a_resolution_later_than_the_sla_alone():
    targets = {"high": SlaTargets(first_response_hours=0.25, resolution_hours=0.5)}
    without = ticket("not_received", targets=targets)

    with_event = ticket("not_received", targets=targets, respond_before=at(24, 15))

    assert without.resolution_due == at(24, 10, 30)
    assert with_event.resolution_due <= without.resolution_due


# --- Repeats -------------------------------------------------------------------------------


def test_a_repeat_counts_the_occurrence_and_keeps_the_earlier_context():
    t = ticket("delivery_failed", context={"attempt": 1})

    again = repeat(t, {"attempt": 2}, TUESDAY_10AM)
    third = repeat(again, {"attempt": 3}, TUESDAY_10AM)

    assert again.occurrences == 2
    assert third.occurrences == 3
    assert third.context == {
        "attempt": 1,
        "occurrence_2": {"attempt": 2},
        "occurrence_3": {"attempt": 3},
    }


@pytest.mark.parametrize(
    ("before", "after"),
    [("low", "normal"), ("normal", "high"), ("high", "urgent"), ("urgent", "urgent")],
)
def test_a_repeat_raises_the_priority_one_step_but_never_above_urgent(before, after):
    t = replace(ticket(), priority=before)

    assert repeat(t, {}, TUESDAY_10AM).priority == after


def test_a_repeat_leaves_the_status_and_clocks_alone():
    t = ticket()

    again = repeat(t, {}, TUESDAY_10AM)

    assert again.status is Status.OPEN
    assert (again.first_response_due, again.resolution_due) == (
        t.first_response_due,
        t.resolution_due,
    )


# --- Breaches and escalation ---------------------------------------------------------------
# A high-priority ticket opened Tuesday 10:00 owes a first response by Tuesday 14:00 and a
# resolution by Thursday 10:00.


def test_nothing_is_breached_before_the_first_response_is_due():
    assert breaches(ticket(), at(24, 13, 59)) == []


def test_the_first_response_is_breached_once_its_due_time_arrives_unanswered():
    assert breaches(ticket(), at(24, 14)) == ["first_response_overdue"]


def test_both_targets_are_breached_when_nobody_answered_by_the_resolution_due_time():
    assert breaches(ticket(), at(26, 10)) == ["first_response_overdue", "resolution_overdue"]


def test_an_answered_ticket_cannot_breach_its_first_response():
    answered = post_message(ticket(), AGENT, "agent", internal=False, now=at(24, 15))

    assert breaches(answered, at(24, 16)) == []
    assert breaches(answered, at(26, 10)) == ["resolution_overdue"]


def test_an_internal_note_does_not_count_as_a_first_response():
    noted = post_message(ticket(), AGENT, "agent", internal=True, now=at(24, 11))

    assert breaches(noted, at(24, 14)) == ["first_response_overdue"]


def test_each_breach_is_reported_only_once():
    t = ticket()
    late = at(24, 14)
    escalated = escalate(t, breaches(t, late), TUESDAY_10AM)

    assert breaches(escalated, late) == []
    assert breaches(escalated, at(25, 12)) == []
    assert breaches(escalated, at(26, 10)) == ["resolution_overdue"]

    again = escalate(escalated, ["resolution_overdue"], TUESDAY_10AM)
    assert breaches(again, at(30, 10)) == []


def test_a_resolved_ticket_never_breaches():
    done = resolved(ticket())

    assert breaches(done, at(31, 10, month=12)) == []


def test_escalating_marks_the_ticket_escalated_more_urgent_and_breached():
    t = ticket()  # high

    escalated = escalate(t, ["first_response_overdue"], TUESDAY_10AM)

    assert escalated.status is Status.ESCALATED
    assert escalated.is_open
    assert escalated.priority == "urgent"
    assert escalated.first_response_breached
    assert not escalated.resolution_breached
    assert escalated.breached


def test_escalating_keeps_earlier_breach_flags():
    first = escalate(ticket(), ["first_response_overdue"], TUESDAY_10AM)

    second = escalate(first, ["resolution_overdue"], TUESDAY_10AM)

    assert second.first_response_breached
    assert second.resolution_breached
    assert second.priority == "urgent"


def test_the_queue_sorts_by_the_first_response_until_someone_answers_then_by_resolution():
    t = ticket()
    assert t.sla_due == t.first_response_due == at(24, 14)

    noted = post_message(t, AGENT, "agent", internal=True, now=at(24, 11))
    assert noted.sla_due == t.first_response_due

    answered = post_message(t, AGENT, "agent", internal=False, now=at(24, 11))
    assert answered.sla_due == t.resolution_due == at(26, 10)
